CREATE TABLE "dms_prcpart" (
	"prcid" bigint NOT NULL,
	"partno" integer NOT NULL,
	"afterkey" text,
	"uptokey" text,
	"status" varchar(2) DEFAULT 'IP' NOT NULL,
	"param1" text,
	"batchcnt" bigint DEFAULT 0 NOT NULL,
	"trgrows" bigint DEFAULT 0 NOT NULL,
	"wfid" varchar(300),
	"reccrdt" timestamp with time zone DEFAULT now() NOT NULL,
	"recupdt" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dms_prcpart_status_ck" CHECK (status IN ('IP', 'PC'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "dms_prcpart_pk" ON "dms_prcpart" USING btree ("prcid","partno");