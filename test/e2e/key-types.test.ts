// KEY loads over key types whose printed name hides a modifier (char(n), bit(n),
// numeric(p,s), timestamp(p), varchar(n)) and other key types, PostgreSQL to PostgreSQL,
// on the COPY pipe (another database) and the in-database path (the same database). Each
// ends in an exact compare: a range bound cut to the type's default length would lose rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping, runs } from '../support/fact-load';
import { failureOf, openHarness, waitUntil, type Harness } from '../support/harness';
import { conurlFor, PG_PASSWORD_ENV, withClient } from '../support/postgres';
import type { WorkerProcess } from '../support/worker-process';

let h: Harness;
let mainWorker: WorkerProcess;
const ROWS = 4000;

const TYPES: { name: string; type: string; value: string }[] = [
  { name: 'char(n) with values shorter than n', type: 'char(3)', value: 'to_hex(g)' },
  { name: 'bit(n)', type: 'bit(12)', value: 'g::bit(12)' },
  { name: 'varchar(n)', type: 'varchar(20)', value: `'k' || g` },
  { name: 'numeric(p,s)', type: 'numeric(10,2)', value: 'g / 100.0' },
  { name: 'uuid', type: 'uuid', value: 'md5(g::text)::uuid' },
  { name: 'an enum', type: 'mood', value: `(ARRAY['sad','ok','happy'])[g % 3 + 1]::mood` },
  { name: 'a domain', type: 'short_code', value: 'to_hex(g)' },
  { name: 'timestamp(p)', type: 'timestamp(3)', value: `timestamp '2026-01-01' + g * interval '1.0015 second'` },
  {
    name: 'text with a non-default collation',
    type: 'text COLLATE "C"',
    value: `(ARRAY['a','B','_','é'])[g % 4 + 1] || g`,
  },
];

async function both(sql: string): Promise<void> {
  await withClient(h.dbs.source, (c) => c.query(sql));
  await withClient(h.dbs.target, (c) => c.query(sql));
}

beforeAll(async () => {
  h = await openHarness('ktypes');
  await both(
    `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE DOMAIN short_code AS char(3) CHECK (VALUE <> 'zzz')`,
  );
  mainWorker = await h.startWorker();
});

afterAll(async () => {
  await h?.close();
});

function digest(database: string, table: string) {
  return withClient(
    database,
    async (c) =>
      (
        await c.query(
          `SELECT count(*)::int AS n, md5(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C")) AS md5 FROM ${table} t`,
        )
      ).rows[0],
  );
}

describe.each([
  { path: 'the COPY pipe', sameDatabase: false },
  { path: 'the same database', sameDatabase: true },
])('KEY over key types, on $path', ({ sameDatabase }) => {
  it.each(TYPES.map((t, i) => ({ ...t, i })))('loads $name exactly', async ({ type, value, i }) => {
    const mapref = `KT${i}${sameDatabase ? 'S' : 'C'}`;
    const src = `s_${mapref.toLowerCase()}`;
    const tgt = `t_${mapref.toLowerCase()}`;
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ${src} (k ${type} NOT NULL, g int NOT NULL, PRIMARY KEY (k, g))`);
      await c.query(`INSERT INTO ${src} SELECT ${value}, g FROM generate_series(1, ${ROWS}) g`);
    });
    // The target has no key: a row loaded twice would show.
    await withClient(sameDatabase ? h.dbs.source : h.dbs.target, (c) =>
      c.query(`CREATE TABLE ${tgt} (k ${type}, g int)`),
    );
    if (sameDatabase) {
      await withClient(h.dbs.metadata, (c) =>
        c.query(
          `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRCASTGT', 'POSTGRES', $1, $2) ON CONFLICT DO NOTHING`,
          [conurlFor(h.dbs.source), PG_PASSWORD_ENV],
        ),
      );
    }
    await registerMapping(h.dbs, {
      mapref,
      batchSize: 250,
      srcquery: `SELECT k, g FROM ${src}`,
      trgtbnm: tgt.toUpperCase(),
      chkpntcolumn: 'K',
      columns: sameDatabase ? { trgconid: 'SRCASTGT' } : {},
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: `dms-${mapref}`,
      args: [{ mapref }],
    });
    expect(await failureOf(handle)).toBeUndefined();
    expect(await digest(sameDatabase ? h.dbs.source : h.dbs.target, tgt)).toEqual(await digest(h.dbs.source, src));
    expect((await runs(h.dbs.metadata, mapref)).map((r) => r.status)).toEqual(['PC']);
    expect(h.workerOutput()).toMatch(
      sameDatabase ? /INSERT \.\.\. SELECT inside the database/ : /COPY from the source piped into COPY on the target/,
    );
  });
});

describe.each([
  { path: 'the COPY pipe', sameDatabase: false },
  { path: 'the same database', sameDatabase: true },
])('KEY over a composite key of two modified types, on $path', ({ sameDatabase }) => {
  it('loads (char(3), numeric(10,2)) exactly, ties of the first column split by the second', async () => {
    const mapref = `KTMIX${sameDatabase ? 'S' : 'C'}`;
    const src = `s_${mapref.toLowerCase()}`;
    const tgt = `t_${mapref.toLowerCase()}`;
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ${src} (a char(3) NOT NULL, b numeric(10,2) NOT NULL, v text, PRIMARY KEY (a, b))`);
      // 40 short values of a, each with 100 values of b: every batch bound falls inside a run of equal a.
      await c.query(
        `INSERT INTO ${src} SELECT to_hex(g % 40), (g / 40) / 100.0 + 0.01, 'v' || g FROM generate_series(1, ${ROWS}) g`,
      );
    });
    await withClient(sameDatabase ? h.dbs.source : h.dbs.target, (c) =>
      c.query(`CREATE TABLE ${tgt} (a char(3), b numeric(10,2), v text)`),
    );
    if (sameDatabase) {
      await withClient(h.dbs.metadata, (c) =>
        c.query(
          `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRCASTGT', 'POSTGRES', $1, $2) ON CONFLICT DO NOTHING`,
          [conurlFor(h.dbs.source), PG_PASSWORD_ENV],
        ),
      );
    }
    await registerMapping(h.dbs, {
      mapref,
      batchSize: 150,
      srcquery: `SELECT a, b, v FROM ${src}`,
      trgtbnm: tgt.toUpperCase(),
      chkpntcolumn: 'A, B',
      columns: sameDatabase ? { trgconid: 'SRCASTGT' } : {},
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: `dms-${mapref}`,
      args: [{ mapref }],
    });
    expect(await failureOf(handle)).toBeUndefined();
    expect(await digest(sameDatabase ? h.dbs.source : h.dbs.target, tgt)).toEqual(await digest(h.dbs.source, src));
    expect(await runs(h.dbs.metadata, mapref)).toMatchObject([
      { status: 'PC', trgrows: ROWS, batchcnt: Math.ceil(ROWS / 150) },
    ]);
  });
});

describe('KEY over a type without an order', () => {
  it.each([
    { type: 'json', value: `json_build_object('g', g)` },
    { type: 'point', value: 'point(g, g)' },
  ])('refuses $type before any row moves', async ({ type, value }) => {
    const mapref = `KTNO${type.toUpperCase()}`;
    const src = `s_${mapref.toLowerCase()}`;
    const tgt = `t_${mapref.toLowerCase()}`;
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE ${src} (k ${type} NOT NULL, g int)`);
      await c.query(`INSERT INTO ${src} SELECT ${value}, g FROM generate_series(1, 100) g`);
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE ${tgt} (k ${type}, g int)`));
    await registerMapping(h.dbs, {
      mapref,
      batchSize: 10,
      srcquery: `SELECT k, g FROM ${src}`,
      trgtbnm: tgt.toUpperCase(),
      chkpntcolumn: 'K',
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: `dms-${mapref}`,
      args: [{ mapref }],
    });
    expect(await failureOf(handle)).toBe(
      `Mapping ${mapref}: CHKPNTCOLUMN names "k" (${type}), whose type has no order, so batches cannot be cut by key ranges. ` +
        'Fix: key the mapping on columns with an order (numbers, text, dates, uuid), cast the column in SRCQUERY (e.g. payload::text AS payload_key), or use ROWCOUNT',
    );
    expect((await digest(h.dbs.target, tgt)).n).toBe(0);
  });
});

describe('UPSERT into a target with columns the source does not fill', () => {
  it.each([
    { how: 'ALWAYS', sameDatabase: false },
    { how: 'BY DEFAULT', sameDatabase: true },
  ])(
    'merges into identity ($how), generated, defaulted and trigger-set columns, twice, exactly',
    async ({ how, sameDatabase }) => {
      const mapref = `UPS${sameDatabase ? 'S' : 'C'}`;
      const db = sameDatabase ? h.dbs.source : h.dbs.target;
      const tgt = `t_${mapref.toLowerCase()}`;
      await withClient(h.dbs.source, async (c) => {
        await c.query(`CREATE TABLE IF NOT EXISTS s_ups (k int PRIMARY KEY, v text NOT NULL)`);
        await c.query(`INSERT INTO s_ups SELECT g, 'v' || g FROM generate_series(1, ${ROWS}) g ON CONFLICT DO NOTHING`);
      });
      await withClient(db, async (c) => {
        await c.query(`CREATE TABLE ${tgt} (
        sid bigint GENERATED ${how} AS IDENTITY,
        k int NOT NULL UNIQUE,
        v text NOT NULL,
        v_len int GENERATED ALWAYS AS (length(v)) STORED,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        touched text NOT NULL DEFAULT '')`);
        await c.query(
          `CREATE FUNCTION ${tgt}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := 'yes'; RETURN NEW; END $$`,
        );
        await c.query(
          `CREATE TRIGGER ${tgt}_touch BEFORE INSERT OR UPDATE ON ${tgt} FOR EACH ROW EXECUTE FUNCTION ${tgt}_touch()`,
        );
      });
      if (sameDatabase) {
        await withClient(h.dbs.metadata, (c) =>
          c.query(
            `INSERT INTO dms_dbcondtls (conid, dbtyp, conurl, pwdenv) VALUES ('SRCASTGT', 'POSTGRES', $1, $2) ON CONFLICT DO NOTHING`,
            [conurlFor(h.dbs.source), PG_PASSWORD_ENV],
          ),
        );
      }
      await registerMapping(h.dbs, {
        mapref,
        batchSize: 500,
        srcquery: 'SELECT k, v FROM s_ups',
        trgtbnm: tgt.toUpperCase(),
        chkpntcolumn: 'K',
        columns: { loadmode: 'UPSERT', trgkeycols: 'K', ...(sameDatabase ? { trgconid: 'SRCASTGT' } : {}) },
      });
      for (const round of [1, 2]) {
        if (round === 2)
          await withClient(h.dbs.source, (c) => c.query(`UPDATE s_ups SET v = v || 'x' WHERE k % 7 = 0`));
        const handle = await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: `dms-${mapref}-${round}`,
          args: [{ mapref }],
        });
        expect(await failureOf(handle)).toBeUndefined();
        const source = await withClient(
          h.dbs.source,
          async (c) =>
            (await c.query(`SELECT md5(string_agg(k || ':' || v, ',' ORDER BY k)) AS m FROM s_ups`)).rows[0].m,
        );
        const target = await withClient(
          db,
          async (c) =>
            (
              await c.query(
                `SELECT md5(string_agg(k || ':' || v, ',' ORDER BY k)) AS m, count(*)::int AS n, count(DISTINCT sid)::int AS sids,
                    bool_and(v_len = length(v)) AS generated, bool_and(touched = 'yes') AS triggered FROM ${tgt}`,
              )
            ).rows[0],
        );
        expect(target).toEqual({ m: source, n: ROWS, sids: ROWS, generated: true, triggered: true });
      }
    },
  );
});

describe('every batch checks its own count', () => {
  it('rolls back a batch that moved fewer rows than its range holds, and never commits past them', async () => {
    // A source whose rows differ between the read that finds the upper key and the one that
    // moves the range (here at random): each batch moves fewer than BULKLMT rows about half
    // the time. Enough batches (about 40) that a run with no refused batch (about 2^-39)
    // never happens: with few, a run could end before one was refused.
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE s_shrink (k int PRIMARY KEY, v text)`);
      await c.query(`INSERT INTO s_shrink SELECT g, 'v' || g FROM generate_series(1, 40000) g`);
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE t_shrink (k int, v text)`));
    await registerMapping(h.dbs, {
      mapref: 'SHRINK',
      batchSize: 500,
      srcquery: 'SELECT k, v FROM s_shrink WHERE random() < 0.5',
      trgtbnm: 'T_SHRINK',
      chkpntcolumn: 'K',
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-SHRINK',
      args: [{ mapref: 'SHRINK' }],
    });
    // Seen in the worker's log: a batch short of BULKLMT (retried), or one whose checkpoint's
    // proof finds the source counting other rows in its range than it took, or not its last row
    // (not retried).
    await waitUntil(
      'a refused batch',
      async () =>
        /Mapping SHRINK: (batch \d+ moved \d+ rows, but its key range|CHKPNTCOLUMN k \([a-z0-9 ]+\): batch \d+ (took \d+ rows, but the source counts \d+ between its bounds|ended at key \d+, but that key, bound back))/.test(
          h.workerOutput(),
        ),
      60_000,
    );
    // A proof that failed ended the run already (not retried); a short batch keeps it retrying.
    await handle.terminate('test: seen').catch(() => undefined);
    // Whatever committed, committed whole: every committed batch moved at least BULKLMT rows.
    const committed = await withClient(h.dbs.target, async (c) => {
      const t = await c.query(`SELECT count(*)::int AS n FROM t_shrink`);
      const k = await c.query(`SELECT batchcnt::int AS b, trgrows::int AS r FROM dms_chkpnt WHERE mapref = 'SHRINK'`);
      return { rows: t.rows[0].n, batches: k.rows[0]?.b ?? 0, counted: k.rows[0]?.r ?? 0 };
    });
    expect(committed.rows).toBe(committed.counted);
    expect(committed.rows).toBeGreaterThanOrEqual(committed.batches * 500);
  });
});

describe('every KEY run checks its own end', () => {
  it('loads rows that arrived after its last key during the run before it completes', async () => {
    await withClient(h.dbs.source, async (c) => {
      await c.query(`CREATE TABLE s_grow (k int PRIMARY KEY, v text)`);
      await c.query(`INSERT INTO s_grow SELECT g, 'v' || g FROM generate_series(1, 1000) g`);
    });
    await withClient(h.dbs.target, (c) => c.query(`CREATE TABLE t_grow (k int, v text)`));
    await registerMapping(h.dbs, {
      mapref: 'GROW',
      batchSize: 400,
      srcquery: 'SELECT k, v FROM s_grow',
      trgtbnm: 'T_GROW',
      chkpntcolumn: 'K',
    });
    // The third batch is the last one; rows arrive after it read its range, before the run ends.
    await mainWorker.kill(); // only the worker with the fault point may take the run
    const worker = await h.startWorker({
      faults: [{ point: 'beforeEndCheck', batch: 3, attempt: 1, action: 'stall', ms: 1500 }],
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-GROW',
      args: [{ mapref: 'GROW' }],
    });
    await worker.waitFor(/fault: stall start at beforeEndCheck of batch 3/);
    await withClient(h.dbs.source, (c) =>
      c.query(`INSERT INTO s_grow SELECT g, 'late ' || g FROM generate_series(1001, 1100) g`),
    );
    expect(await failureOf(handle)).toBeUndefined();
    expect(await digest(h.dbs.target, 't_grow')).toEqual(await digest(h.dbs.source, 's_grow'));
    expect(worker.output()).toContain(
      'Mapping GROW: rows arrived after key 1000 during the run; loading them before the run completes',
    );
    await worker.kill();
  });
});
