CREATE TABLE "dms_dbcondtls" (
	"conid" varchar(64) PRIMARY KEY NOT NULL,
	"dbtyp" varchar(20) NOT NULL,
	"conurl" text NOT NULL,
	"pwdenv" varchar(128),
	"reccrdt" timestamp with time zone DEFAULT now() NOT NULL,
	"recupdt" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dms_job" (
	"jobid" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dms_job_jobid_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"mapref" varchar(128) NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"srcconid" varchar(64),
	"srcquery" text,
	"trgconid" varchar(64),
	"trgschm" varchar(128),
	"trgtbnm" varchar(128),
	"trgkeycols" varchar(1000),
	"loadmode" varchar(20) DEFAULT 'APPEND' NOT NULL,
	"bulklmt" integer DEFAULT 1000 NOT NULL,
	"chkpntstrategy" varchar(20) DEFAULT 'AUTO' NOT NULL,
	"chkpntcolumn" varchar(1000),
	"chkpntenabled" char(1) DEFAULT 'Y' NOT NULL,
	"curflg" char(1) DEFAULT 'Y' NOT NULL,
	"reccrdt" timestamp with time zone DEFAULT now() NOT NULL,
	"recupdt" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dms_mapr" (
	"mapref" varchar(128) PRIMARY KEY NOT NULL,
	"srcconid" varchar(64),
	"srcquery" text,
	"trgconid" varchar(64),
	"trgschm" varchar(128),
	"trgtbnm" varchar(128),
	"trgkeycols" varchar(1000),
	"loadmode" varchar(20) DEFAULT 'APPEND' NOT NULL,
	"bulklmt" integer DEFAULT 1000 NOT NULL,
	"chkpntstrategy" varchar(20) DEFAULT 'AUTO' NOT NULL,
	"chkpntcolumn" varchar(1000),
	"chkpntenabled" char(1) DEFAULT 'Y' NOT NULL,
	"reccrdt" timestamp with time zone DEFAULT now() NOT NULL,
	"recupdt" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dms_prclog" (
	"prcid" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dms_prclog_prcid_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"sessionid" varchar(300),
	"jobid" bigint,
	"mapref" varchar(128) NOT NULL,
	"status" varchar(2) DEFAULT 'IP' NOT NULL,
	"strtdt" timestamp with time zone DEFAULT now() NOT NULL,
	"enddt" timestamp with time zone,
	"param1" text,
	"chkpntstrategy" varchar(20),
	"resumedfrom" bigint,
	"srcrows" bigint DEFAULT 0 NOT NULL,
	"trgrows" bigint DEFAULT 0 NOT NULL,
	"batchcnt" bigint DEFAULT 0 NOT NULL,
	"lasterr" text,
	"wfid" varchar(300),
	"wfrunid" varchar(64),
	"reccrdt" timestamp with time zone DEFAULT now() NOT NULL,
	"recupdt" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dms_prclog_status_ck" CHECK (status IN ('IP', 'PC', 'FL', 'CN'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "dms_job_mapref_version_uq" ON "dms_job" USING btree ("mapref","version");--> statement-breakpoint
CREATE UNIQUE INDEX "dms_job_current_uq" ON "dms_job" USING btree ("mapref") WHERE curflg = 'Y';--> statement-breakpoint
CREATE UNIQUE INDEX "dms_prclog_one_active_uq" ON "dms_prclog" USING btree ("mapref") WHERE status = 'IP';--> statement-breakpoint
CREATE INDEX "dms_prclog_mapref_idx" ON "dms_prclog" USING btree ("mapref","prcid");