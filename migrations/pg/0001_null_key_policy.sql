ALTER TABLE "dms_job" ADD COLUMN "chkpntnulls" varchar(10) DEFAULT 'FAIL' NOT NULL;--> statement-breakpoint
ALTER TABLE "dms_mapr" ADD COLUMN "chkpntnulls" varchar(10) DEFAULT 'FAIL' NOT NULL;