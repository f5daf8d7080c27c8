// The target side: its tables described, batches run in transactions, DMS_CHKPNT kept, and
// for a PostgreSQL source the mover chosen (in the database, or COPY from another).
import type pg from 'pg';
import type {
  CheckpointRow,
  ColumnInfo,
  KeyedQuery,
  MissingPrivilege,
  OrderedMover,
  RangeMover,
  RejectListing,
  SourceDatabase,
  TargetDatabase,
  TargetNeeds,
  TargetTransaction,
  TransactionOptions,
} from '../dialect';
import { checkpointTable, createOrUpgradeCheckpointTable, readCheckpointRow } from './postgres-checkpoint-table';
import { copyPipeMover } from './postgres-copy-pipe-mover';
import { inDatabaseMover } from './postgres-in-database-mover';
import { orderedCopyMover } from './postgres-ordered-copy-mover';
import { planOf } from './postgres-plan';
import { extended, FAMILY, identityOf } from './postgres-session';
import { PostgresSource } from './postgres-source';
import { collationNameSql, quotePostgresIdentifier, sourceSubquery } from './postgres-sql';
import { PostgresTargetTransaction } from './postgres-target-transaction';
import { countRejectRows, createRejectTable, listRejectRows, rejectTable } from './postgres-reject-table';
import { uniqueIndexes } from './postgres-unique-keys';

/** PostgreSQL's FirstNormalObjectId: every oid below it is a built-in object, the same in every database. */
const FIRST_NORMAL_OID = 16384;

export class PostgresTarget implements TargetDatabase {
  constructor(private readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * The privileges a load needs that this user lacks, from the catalogs (has_*_privilege,
   * which count grants to PUBLIC and to roles the user inherits): USAGE on the schema, INSERT
   * on the table (SELECT and UPDATE too to merge, with TEMPORARY on the database for the stage;
   * TRUNCATE for LOADMODE TRUNCATE), SELECT, INSERT, UPDATE on DMS_CHKPNT (SELECT, INSERT on
   * DMS_REJECT), or CREATE on the schema where either is still missing.
   */
  async missingPrivileges(
    schema: string,
    table: string,
    needs: TargetNeeds,
  ): Promise<{ user: string; missing: MissingPrivilege[] }> {
    const q = quotePostgresIdentifier;
    const {
      rows: [me],
    } = await this.pool.query<{ usr: string; db: string; usage: string; create: string; temp: string }>(
      `SELECT current_user AS usr, current_database() AS db, has_schema_privilege(n.oid, 'USAGE')::int AS usage,
              has_schema_privilege(n.oid, 'CREATE')::int AS create, has_database_privilege(current_database(), 'TEMPORARY')::int AS temp
         FROM pg_namespace n WHERE n.nspname = $1`,
      [schema],
    );
    if (!me) return { user: '', missing: [] }; // no such schema: describeTable has said so
    const user = me.usr;
    const to = ` TO ${q(user)}`;
    if (me.usage !== '1') {
      return {
        user,
        missing: [
          {
            what: `USAGE on schema ${q(schema)}`,
            why: 'to reach the target table',
            grant: `GRANT USAGE ON SCHEMA ${q(schema)}${to}`,
          },
        ],
      };
    }
    // Table privileges by table, read without resolving a name (which would need USAGE).
    const tables = [table, 'dms_chkpnt', ...(needs.rejects ? ['dms_reject'] : [])];
    const { rows } = await this.pool.query<{ name: string; sel: string; ins: string; upd: string; trn: string }>(
      `SELECT c.relname AS name, has_table_privilege(c.oid, 'SELECT')::int AS sel, has_table_privilege(c.oid, 'INSERT')::int AS ins,
              has_table_privilege(c.oid, 'UPDATE')::int AS upd, has_table_privilege(c.oid, 'TRUNCATE')::int AS trn
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
      [schema, tables],
    );
    const held = new Map(
      rows.map((r) => [
        r.name,
        new Set(
          [
            r.sel === '1' && 'SELECT',
            r.ins === '1' && 'INSERT',
            r.upd === '1' && 'UPDATE',
            r.trn === '1' && 'TRUNCATE',
          ].filter(Boolean),
        ),
      ]),
    );
    const missing: MissingPrivilege[] = [];
    const onTable = (name: string, wanted: string[], why: string) => {
      const lacking = wanted.filter((p) => !held.get(name)?.has(p));
      const relation = `${q(schema)}.${q(name)}`;
      if (lacking.length)
        missing.push({
          what: `${lacking.join(', ')} on table ${relation}`,
          why,
          grant: `GRANT ${lacking.join(', ')} ON ${relation}${to}`,
        });
    };
    onTable(table, ['INSERT'], 'to load rows');
    if (needs.merge) onTable(table, ['SELECT', 'UPDATE'], 'to merge rows on TRGKEYCOLS');
    if (needs.truncate) onTable(table, ['TRUNCATE'], "to empty it at a fresh start (LOADMODE 'TRUNCATE')");
    if (needs.merge && me.temp !== '1') {
      missing.push({
        what: `TEMPORARY on database ${q(me.db)}`,
        why: 'for the temporary stage rows merge through',
        grant: `GRANT TEMPORARY ON DATABASE ${q(me.db)}${to}`,
      });
    }
    const create = (name: string) => {
      if (me.create !== '1') {
        missing.push({
          what: `CREATE on schema ${q(schema)}`,
          why: `to create ${name}, which does not exist yet (or a DBA creates it ahead, then grants on it)`,
          grant: `GRANT CREATE ON SCHEMA ${q(schema)}${to}`,
        });
      }
    };
    if (held.has('dms_chkpnt')) onTable('dms_chkpnt', ['SELECT', 'INSERT', 'UPDATE'], 'to keep the checkpoint');
    else create('dms_chkpnt');
    if (needs.rejects) {
      if (held.has('dms_reject')) onTable('dms_reject', ['SELECT', 'INSERT'], 'to keep rejected rows (REJECTLMT)');
      else if (held.has('dms_chkpnt')) create('dms_reject'); // else CREATE is asked for already
    }
    return { user, missing };
  }

  async orderedMover(
    source: SourceDatabase,
    q: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
  ): Promise<OrderedMover | null> {
    if (!(source instanceof PostgresSource)) return null;
    return orderedCopyMover(source, q, `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`, columns);
  }

  async rangeMover(
    source: SourceDatabase,
    q: KeyedQuery,
    schema: string,
    table: string,
    columns: string[],
    upsertKey: string[] | null = null,
  ): Promise<RangeMover | null> {
    if (!(source instanceof PostgresSource)) return null;
    const relation = `${quotePostgresIdentifier(schema)}.${quotePostgresIdentifier(table)}`;
    const [sourceId, targetId] = await Promise.all([source.identity(), this.identity()]);
    let sameDatabase = '';
    if (sourceId === targetId && (await this.canRead(q.query))) {
      // Inside the target's read-write transaction, SRCQUERY could write: only a query that
      // calls no volatile function runs there; any other reads in a read-only session.
      const volatile = await this.volatileFunctions(q.query);
      if (volatile.length === 0) return inDatabaseMover(q, relation, columns, upsertKey);
      sameDatabase = ` (source and target are one database, but SRCQUERY calls the volatile function${volatile.length > 1 ? 's' : ''} ${volatile.join(', ')}, so it runs in a read-only session, as from another database)`;
    }
    const sourceTypes = await source.columnTypes(q.query);
    const { rows } = await this.pool.query<{ name: string; oid: string }>(
      `SELECT a.attname AS name, a.atttypid AS oid FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [relation],
    );
    const targetTypes = new Map(rows.map((r) => [r.name, Number(r.oid)]));
    // Binary COPY only where both sides are provably one type: the same built-in type (oids
    // below FirstNormalObjectId are fixed; a user type's oid differs between databases, and
    // an equal one may name another type).
    const binary = columns.every((c) => {
      const oid = sourceTypes.get(c)?.oid;
      return oid !== undefined && oid < FIRST_NORMAL_OID && oid === targetTypes.get(c);
    });
    const keyTypes = q.key.map((k) => sourceTypes.get(k)?.name ?? 'text');
    const mover = copyPipeMover(source, q, keyTypes, relation, columns, binary, upsertKey);
    return sameDatabase ? { ...mover, method: mover.method + sameDatabase } : mover;
  }

  async sameDatabaseReads(
    source: SourceDatabase,
    query: string,
  ): Promise<{ schema: string; table: string }[] | undefined> {
    if (!(source instanceof PostgresSource)) return undefined;
    const [sourceId, targetId] = await Promise.all([source.identity(), this.identity()]);
    if (sourceId !== targetId) return undefined;
    return (await planOf(source.pool, query)).relations;
  }

  /**
   * The volatile functions SRCQUERY may call, views and inlined functions followed: every
   * name called in its plan's expressions that names a volatile function (an overloaded name
   * counts if any of its functions is volatile: a wrong guess only costs speed).
   */
  private async volatileFunctions(query: string): Promise<string[]> {
    const { functions } = await planOf(this.pool, query);
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT DISTINCT p.oid::regprocedure::text AS name FROM pg_proc p WHERE p.proname = ANY($1::text[]) AND p.provolatile = 'v' ORDER BY 1`,
      [functions],
    );
    return rows.map((r) => r.name);
  }

  /** Whether this connection may read what SRCQUERY reads (planning checks privileges). */
  private async canRead(query: string): Promise<boolean> {
    try {
      await this.pool.query(extended({ text: `EXPLAIN ${sourceSubquery(query)}` }));
      return true;
    } catch {
      return false;
    }
  }

  async describeTable(schema: string, table: string): Promise<ColumnInfo[] | undefined> {
    const { rows } = await this.pool.query<ColumnInfo>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, ${FAMILY},
              ${collationNameSql('quote_ident(co.collname)')} AS collation,
              (co.oid IS NULL OR co.collisdeterministic) AND t.typname <> 'citext' AS "exactText"
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [schema, table],
    );
    return rows.length === 0 ? undefined : rows;
  }

  async uniqueKeys(schema: string, table: string): Promise<string[][]> {
    const { rows } = await this.pool.query<{ oid: string }>(
      `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    if (!rows[0]) return [];
    const { rows: cols } = await this.pool.query<{ attnum: string; name: string }>(
      'SELECT attnum, attname AS name FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped',
      [rows[0].oid],
    );
    const byNum = new Map(cols.map((c) => [Number(c.attnum), c.name]));
    // NOT NULL only: rows with a NULL key never conflict, so they would be inserted again.
    return (await uniqueIndexes(this.pool, rows[0].oid, true)).map((nums) => nums.map((n) => byNum.get(n) ?? `#${n}`));
  }

  readCheckpoint(schema: string, mapref: string): Promise<CheckpointRow | undefined> {
    return readCheckpointRow(this.pool, schema, mapref);
  }

  ensureCheckpointTable(schema: string): Promise<void> {
    return createOrUpgradeCheckpointTable(this.pool, schema);
  }

  ensureRejectTable(schema: string): Promise<void> {
    return createRejectTable(this.pool, schema);
  }

  async rejects(schema: string, mapref: string, prcid: number | null, limit: number): Promise<RejectListing[]> {
    if (!(await this.hasRejectTable(schema))) return [];
    return listRejectRows(this.pool, schema, mapref, prcid, limit);
  }

  async countRejects(schema: string, mapref: string, prcid: number): Promise<number> {
    return (await this.hasRejectTable(schema)) ? countRejectRows(this.pool, schema, mapref, prcid) : 0;
  }

  private async hasRejectTable(schema: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
      rejectTable(schema),
    ]);
    return rows[0].found !== null;
  }

  identity(): Promise<string | null> {
    return identityOf(this.pool);
  }

  async transaction<T>(fn: (tx: TargetTransaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // One round trip: a simple-protocol query may hold two statements.
      await client.query(options.flushLater ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
      const result = await fn(new PostgresTargetTransaction(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * A synchronous commit flushes the log up to its own commit record, and so every commit
   * before it. It needs a write (a transaction that wrote no log commits without a flush):
   * the checkpoint row's time of update, the least there is to write.
   */
  async flushCommits(schema: string, mapref: string): Promise<void> {
    await this.pool.query(`UPDATE ${checkpointTable(schema)} SET recupdt = now() WHERE mapref = $1`, [mapref]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
