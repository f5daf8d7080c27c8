ALTER TABLE "dms_job" ADD COLUMN "rejectlmt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dms_mapr" ADD COLUMN "rejectlmt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dms_prclog" ADD COLUMN "rejrows" bigint DEFAULT 0 NOT NULL;