ALTER TABLE "dms_job" ADD COLUMN "partitions" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "dms_mapr" ADD COLUMN "partitions" integer DEFAULT 1 NOT NULL;