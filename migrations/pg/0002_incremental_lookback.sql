ALTER TABLE "dms_job" ADD COLUMN "chkpntlookback" varchar(64);--> statement-breakpoint
ALTER TABLE "dms_mapr" ADD COLUMN "chkpntlookback" varchar(64);