ALTER TABLE "dms_job" ADD COLUMN "batchbytes" integer;--> statement-breakpoint
ALTER TABLE "dms_mapr" ADD COLUMN "batchbytes" integer;