// The planner's checks of a mapping (plan/job-plan.ts), each refusing bad configuration with
// the mapping, the field and the fix, run against databases held in memory: PostgreSQL's
// dialect (names, quoting, hints) over a source and a target that describe fixed tables. The
// checks a database itself makes (a SRCQUERY it refuses, a login, a database that does not
// exist) run against real servers in test/e2e/failures.test.ts, which also proves that a
// refused mapping fails its run before any row moves.
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../common/mapping';
import type { ColumnInfo, ConnectionSpec, QueryDescription, SourceDatabase, TargetDatabase } from '../../dialects';
import { connectionSpecOf } from '../../metadata/repository';
import { DatabaseRegistry } from '../../plan/databases';
import { planMapping } from '../../plan/job-plan';

const column = (name: string, type: string, family: ColumnInfo['family']): ColumnInfo => ({ name, type, family });

/** The fact table the e2e tests load (test/support/fact-load.ts), as PostgreSQL describes it. */
const SALES: ColumnInfo[] = [
  column('sale_id', 'bigint', 'number'),
  column('store_id', 'integer', 'number'),
  column('amount', 'numeric', 'number'),
  column('sold_at', 'timestamp with time zone', 'datetime'),
  column('note', 'text', 'string'),
];

/** A source whose every query returns `described`, and a target with one table, public.t_cfg. */
interface Databases {
  described: QueryDescription;
  target: ColumnInfo[];
  targetUniqueKeys: string[][];
}

const CONNECTIONS = [
  { conid: 'SRC', dbtyp: 'POSTGRES', conurl: 'postgres://dms@127.0.0.1:5432/src' },
  { conid: 'TGT', dbtyp: 'POSTGRES', conurl: 'postgres://dms@127.0.0.1:5432/tgt' },
  { conid: 'SRCPW', dbtyp: 'POSTGRES', conurl: 'postgres://dms@127.0.0.1:5432/src', pwdenv: 'NO_SUCH_PASSWORD' },
  { conid: 'TGTSECRET', dbtyp: 'POSTGRES', conurl: 'postgres://postgres:hunter2@127.0.0.1:5432/x' },
  { conid: 'DB2', dbtyp: 'DB2', conurl: 'db2://scott@db:50000/SAMPLE' },
];

/** DMS_DBCONDTLS in memory, read as the metadata store reads it, on a worker whose environment is empty. */
const metadata = {
  async connection(mapref: string, field: 'SRCCONID' | 'TRGCONID', conid: string): Promise<ConnectionSpec> {
    const row = CONNECTIONS.find((c) => c.conid === conid);
    if (!row) throw new Error(`the test has no connection ${conid}`);
    return connectionSpecOf(mapref, field, row, {});
  },
  async identity() {
    return { id: 'metadata', schema: 'public' };
  },
};

/** The real registry's dialects (a DBTYP it cannot run is refused as it is on a worker), over databases in memory. */
class InMemoryDatabases extends DatabaseRegistry {
  constructor(private readonly dbs: Databases) {
    super({ lockTimeoutMs: 1000 });
  }

  override source(mapref: string, spec: ConnectionSpec): SourceDatabase {
    this.dialect(mapref, 'SRCCONID', spec);
    const { described } = this.dbs;
    const source: Partial<SourceDatabase> = {
      ping: async () => undefined,
      describeQuery: async () => described,
      supportsLookback: (type) => /^(date|timestamp)/.test(type),
      // Types with no order, as PostgreSQL has them (json, point, xml).
      unorderedColumns: async (_query, columns) =>
        columns.filter((c) => ['json', 'other'].includes(described.columns.find((d) => d.name === c)!.family)),
    };
    return source as SourceDatabase;
  }

  override target(mapref: string, spec: ConnectionSpec): TargetDatabase {
    this.dialect(mapref, 'TRGCONID', spec);
    const { dbs } = this;
    const target: Partial<TargetDatabase> = {
      ping: async () => undefined,
      describeTable: async (schema, table) => (schema === 'public' && table === 't_cfg' ? dbs.target : undefined),
      uniqueKeys: async () => dbs.targetUniqueKeys,
      identity: async () => 'target',
      ensureRejectTable: async () => undefined,
    };
    return target as TargetDatabase;
  }
}

interface Case {
  name: string;
  /** DMS_MAPR's columns that differ from a KEY load of the fact table on SALE_ID. */
  mapping?: Record<string, string | number | null>;
  /** What the source's query returns, where it differs from the fact table's columns with sale_id unique. */
  described?: QueryDescription;
  expected: RegExp;
}

function plan(c: Pick<Case, 'mapping' | 'described'>) {
  const spec = parseMapping({
    mapref: 'CFG',
    srcconid: 'SRC',
    srcquery: 'SELECT * FROM sales',
    trgconid: 'TGT',
    trgschm: 'PUBLIC',
    trgtbnm: 'T_CFG',
    loadmode: 'APPEND',
    bulklmt: 500,
    chkpntstrategy: 'KEY',
    chkpntcolumn: 'SALE_ID',
    chkpntenabled: 'Y',
    ...c.mapping,
  });
  const databases = new InMemoryDatabases({
    described: c.described ?? { columns: SALES, uniqueKeys: [['sale_id']] },
    target: SALES,
    targetUniqueKeys: [],
  });
  return planMapping(metadata, databases, spec);
}

const CASES: Case[] = [
  {
    name: 'a key column the query does not return',
    mapping: { chkpntcolumn: 'TRANSACTION_ID' },
    expected:
      /^Mapping CFG: CHKPNTCOLUMN is 'TRANSACTION_ID'; the column "transaction_id" \(from TRANSACTION_ID\) is not returned by SRCQUERY \(it returns sale_id, store_id, amount, sold_at, note\)\. Fix: /,
  },
  {
    name: 'a composite key with a column the query does not return',
    mapping: { chkpntcolumn: 'SALE_ID, "Store_Id"' },
    expected:
      /^Mapping CFG: CHKPNTCOLUMN is 'SALE_ID, "Store_Id"'; the column "Store_Id" \(from "Store_Id"\) is not returned/,
  },
  {
    name: 'a key column named twice',
    mapping: { chkpntcolumn: 'SALE_ID, sale_id' },
    expected: /^Mapping CFG: CHKPNTCOLUMN names the column "sale_id" twice\. Fix: name each key column once$/,
  },
  {
    name: 'a source column whose type the target cannot take',
    described: {
      columns: SALES.map((c) => (c.name === 'store_id' ? column('store_id', 'text', 'string') : c)),
      uniqueKeys: [['sale_id']],
    },
    expected:
      /^Mapping CFG: SRCQUERY returns "store_id" as text, but the target column "public"."t_cfg"."store_id" is integer\. Fix: cast it in SRCQUERY/,
  },
  {
    name: 'a column returned twice',
    described: { columns: [SALES[0], SALES[0]], uniqueKeys: [] },
    expected: /^Mapping CFG: SRCQUERY returns the column "sale_id" more than once\. Fix: /,
  },
  {
    name: 'a missing target schema',
    mapping: { trgschm: 'nowhere' },
    expected: /^Mapping CFG: TRGTBNM names the table "nowhere"."t_cfg", which does not exist on connection 'TGT'/,
  },
  {
    name: 'a missing target table',
    mapping: { trgtbnm: 'NO_SUCH_TABLE' },
    expected:
      /^Mapping CFG: TRGTBNM names the table "public"."no_such_table", which does not exist .*Fix: create the target table/,
  },
  {
    name: 'a source column the target lacks',
    described: { columns: [...SALES, column('extra', 'integer', 'number')], uniqueKeys: [['sale_id']] },
    expected: /^Mapping CFG: SRCQUERY returns "extra", which the target table "public"."t_cfg" does not have\. Fix: /,
  },
  {
    name: 'a password variable the worker lacks',
    mapping: { srcconid: 'SRCPW' },
    expected:
      /^Mapping CFG: SRCCONID uses connection 'SRCPW', whose PWDENV names the environment variable NO_SUCH_PASSWORD, which is not set on the worker\. Fix: export NO_SUCH_PASSWORD/,
  },
  {
    name: 'a password inside CONURL',
    mapping: { trgconid: 'TGTSECRET' },
    expected:
      /^Mapping CFG: TRGCONID uses connection 'TGTSECRET', whose CONURL contains a password\. Fix: remove the password from CONURL/,
  },
  {
    name: 'a database type this version cannot run',
    mapping: { srcconid: 'DB2' },
    expected:
      /^Mapping CFG: SRCCONID uses connection 'DB2' of DBTYP 'DB2', which this version cannot run\. Fix: use a connection of DBTYP POSTGRES, POSTGRESQL, MARIADB, MYSQL, ORACLE$/,
  },
  {
    name: 'UPSERT without a unique index on TRGKEYCOLS',
    mapping: { loadmode: 'UPSERT', trgkeycols: 'SALE_ID' },
    expected:
      /^Mapping CFG: TRGKEYCOLS is \(sale_id\), but the target table "public"."t_cfg" has no unique index on exactly those columns \(all NOT NULL\), which UPSERT needs to match rows\. Fix: create one/,
  },
  {
    name: 'INCREMENTAL without a key',
    mapping: { loadmode: 'INCREMENTAL', chkpntstrategy: 'NONE', chkpntcolumn: null },
    expected:
      /^Mapping CFG: LOADMODE is 'INCREMENTAL', which needs a key to keep a high-water mark, but the strategy is NONE\. Fix: /,
  },
  {
    name: 'INCREMENTAL counting rows',
    mapping: { loadmode: 'INCREMENTAL', chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    expected:
      /^Mapping CFG: LOADMODE is 'INCREMENTAL', which needs a key to keep a high-water mark, but the strategy is ROWCOUNT\. Fix: /,
  },
  {
    name: 'INCREMENTAL with the NULL-key rows loaded first',
    mapping: { loadmode: 'INCREMENTAL', chkpntnulls: 'FIRST' },
    expected:
      /^Mapping CFG: CHKPNTNULLS is 'FIRST', which would load the NULL-key rows again on every INCREMENTAL run\. Fix: /,
  },
  {
    name: 'a look-back window on a key that is not a date',
    mapping: { loadmode: 'INCREMENTAL', chkpntlookback: '1 hour', trgkeycols: 'SALE_ID' },
    expected:
      /^Mapping CFG: CHKPNTLOOKBACK is set, but the first key column "sale_id" is bigint, not a date or timestamp\. Fix: /,
  },
  {
    name: 'ROWCOUNT over a column with no order',
    mapping: { chkpntstrategy: 'ROWCOUNT', chkpntcolumn: null },
    described: {
      columns: SALES.map((c) => (c.name === 'note' ? column('note', 'json', 'json') : c)),
      uniqueKeys: [],
    },
    expected:
      /^Mapping CFG: SRCQUERY returns "note", whose type has no order, so ROWCOUNT cannot read the rows in a total, repeatable order\. Fix: /,
  },
  {
    name: 'PARTITIONS where AUTO finds no key',
    mapping: { chkpntstrategy: 'AUTO', chkpntcolumn: null, partitions: 4 },
    described: { columns: SALES, uniqueKeys: [] },
    expected:
      /^Mapping CFG: PARTITIONS is 4, but the strategy is ROWCOUNT \(.+\): only a KEY load splits into key ranges\. Fix: set CHKPNTCOLUMN to a key/,
  },
];

describe('the planner refuses bad configuration, naming the mapping, the field and the fix', () => {
  it('plans the mapping every case below changes one thing of', async () => {
    const p = await plan({});
    expect([p.strategy, p.userKey, p.schema, p.table]).toEqual(['KEY', ['sale_id'], 'public', 't_cfg']);
  });

  it.each(CASES)('refuses $name', async (c) => {
    const refused = await plan(c).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(refused?.name).toBe('ConfigError');
    expect(refused?.message).toMatch(c.expected);
    expect(refused?.message).not.toContain('hunter2');
  });
});
