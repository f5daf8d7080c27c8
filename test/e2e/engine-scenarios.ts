// The end-to-end scenarios every engine runs, the same code for each: the engine as a source
// into PostgreSQL, PostgreSQL into the engine as a target, and the engine into itself. Each
// load ends in a value-by-value compare through the canonical text of test/support/places.ts.
// Targets have no primary key unless a merge needs one, so a batch loaded twice shows as
// extra rows. engine-postgres.test.ts and engine-mariadb.test.ts run them on this machine's
// servers; oracle.test.ts runs them where ORACLE_URL names an Oracle server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMapping } from '../support/fact-load';
import { failureOf, openHarness, type Harness } from '../support/harness';
import { postgresPlace, testRows, type Place } from '../support/places';

export interface EngineUnderTest {
  /** For titles: 'PostgreSQL', 'MariaDB', 'Oracle'. */
  name: string;
  /** A short label for the harness's databases and task queue. */
  label: string;
  /** Makes the engine's test database (before any worker starts). */
  start(): Promise<EngineSession>;
}

export interface EngineSession {
  /** Variables the worker needs (the engine's password, under the name PWDENV gives). */
  workerEnv: Record<string, string>;
  /**
   * Registers the engine's connection in the metadata database (migrating it) and returns where its
   * tables live when it is read from and when it is loaded into.
   */
  open(h: Harness): Promise<{ source: Place; target: Place }>;
  /** Drops what start made. */
  close(): Promise<void>;
}

const ROWS = 3000;
const BATCH = 400;

/** Declares the scenarios for `engine`, inside the caller's describe. */
export function engineScenarios(engine: EngineUnderTest): void {
  let h: Harness;
  let session: EngineSession | undefined;
  let places: { source: Place; target: Place };
  const made: [Place, string][] = [];

  async function table(
    place: Place,
    label: string,
    rows: number,
    options: { primaryKey?: boolean } = {},
  ): Promise<string> {
    const name = place.table(label);
    await place.drop(name);
    await place.create(name, options);
    made.push([place, name]);
    if (rows > 0) await place.insert(name, testRows(1, rows));
    return name;
  }

  async function load(mapref: string, run = 1): Promise<{ rows: number }> {
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: `dms-${mapref}-${run}`,
      args: [{ mapref }],
    });
    return (await handle.result()) as { rows: number };
  }

  /** Runs a load whose first worker is SIGKILLed before batch 3 commits, and a second that finishes it. */
  async function loadThroughKill(mapref: string): Promise<{ rows: number }> {
    const first = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 3, action: 'kill' }] });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: `dms-${mapref}-1`,
      args: [{ mapref }],
    });
    await first.waitFor(/fault: kill at beforeCommit of batch 3/);
    await first.kill();
    const second = await h.startWorker();
    try {
      return (await handle.result()) as { rows: number };
    } finally {
      await second.kill();
    }
  }

  async function mapping(
    mapref: string,
    from: Place,
    source: string,
    into: Place,
    target: string,
    columns: Record<string, string | number | null> = {},
  ): Promise<void> {
    await registerMapping(h.dbs, {
      mapref,
      batchSize: BATCH,
      srcquery: `SELECT * FROM ${source}`,
      trgtbnm: target,
      chkpntcolumn: 'ID',
      columns: { srcconid: from.conid, trgconid: into.conid, trgschm: into.schema, ...columns },
    });
  }

  /** Whether `into`'s table holds exactly `from`'s rows, as `into` keeps them. */
  async function expectSame(from: Place, source: string, into: Place, target: string): Promise<void> {
    expect(await into.rows(target)).toEqual(into.arriving(await from.rows(source)));
  }

  describe(`${engine.name}: end-to-end scenarios`, () => {
    const pgSource = () => postgresPlace(h.dbs.source, 'SRC');
    const pgTarget = () => postgresPlace(h.dbs.target, 'TGT');

    beforeAll(async () => {
      session = await engine.start();
      h = await openHarness(engine.label, session.workerEnv);
      places = await session.open(h);
    });

    afterAll(async () => {
      for (const [place, name] of made.reverse()) await place.drop(name).catch(() => undefined);
      await session?.close();
      await h?.close();
    });

    describe(`${engine.name} as a source, into PostgreSQL`, () => {
      it('KEY on one column, exactly, through a worker SIGKILL', async () => {
        const source = await table(places.source, 'key_src', ROWS);
        const target = await table(pgTarget(), 'key_tgt', 0);
        await mapping('E_KEY', places.source, source, pgTarget(), target);
        expect(await loadThroughKill('E_KEY')).toMatchObject({ rows: ROWS });
        await expectSame(places.source, source, pgTarget(), target);
      });

      it('a composite key (REGION, ID) and a tied key (GRP, seven rows a value)', async () => {
        const worker = await h.startWorker();
        const source = await table(places.source, 'comp_src', ROWS);
        for (const [mapref, key] of [
          ['E_COMP', 'REGION, ID'],
          ['E_TIES', 'GRP'],
        ]) {
          const target = await table(pgTarget(), `${mapref}_tgt`, 0);
          await mapping(mapref, places.source, source, pgTarget(), target, { chkpntcolumn: key });
          expect(await load(mapref)).toMatchObject({ rows: ROWS });
          await expectSame(places.source, source, pgTarget(), target);
        }
        await worker.kill();
      });

      it('refuses NULL keys before any row moves', async () => {
        const worker = await h.startWorker();
        const source = await table(places.source, 'null_src', ROWS);
        const target = await table(pgTarget(), 'null_tgt', 0);
        await mapping('E_NULL', places.source, source, pgTarget(), target, { chkpntcolumn: 'NOTE' });
        const nulls = (await places.source.rows(source)).filter((t) => t.endsWith('|<null>')).length;
        const handle = await h.client.workflow.start('dmsJob', {
          taskQueue: h.taskQueue,
          workflowId: 'dms-E_NULL-1',
          args: [{ mapref: 'E_NULL' }],
        });
        expect(await failureOf(handle)).toMatch(
          new RegExp(`CHKPNTCOLUMN has NULL values: ${nulls} source row\\(s\\) have NULL in "note"`, 'i'),
        );
        expect(await pgTarget().rows(target)).toEqual([]);
        await worker.kill();
      });

      it('ROWCOUNT, exactly', async () => {
        const worker = await h.startWorker();
        const source = await table(places.source, 'rc_src', ROWS);
        const target = await table(pgTarget(), 'rc_tgt', 0);
        await mapping('E_RC', places.source, source, pgTarget(), target, {
          chkpntstrategy: 'ROWCOUNT',
          chkpntcolumn: null,
        });
        expect(await load('E_RC')).toMatchObject({ rows: ROWS });
        await expectSame(places.source, source, pgTarget(), target);
        await worker.kill();
      });

      it('INCREMENTAL: a second run loads only the rows added since the first', async () => {
        const worker = await h.startWorker();
        const source = await table(places.source, 'inc_src', ROWS);
        const target = await table(pgTarget(), 'inc_tgt', 0);
        await mapping('E_INC', places.source, source, pgTarget(), target, { loadmode: 'INCREMENTAL' });
        expect(await load('E_INC', 1)).toMatchObject({ rows: ROWS });
        await places.source.insert(source, testRows(ROWS + 1, ROWS + 300));
        expect(await load('E_INC', 2)).toMatchObject({ rows: 300 });
        await expectSame(places.source, source, pgTarget(), target);
        await worker.kill();
      });
    });

    describe(`PostgreSQL into ${engine.name} as a target`, () => {
      it('APPEND on KEY, exactly, through a worker SIGKILL', async () => {
        const source = await table(pgSource(), 'app_src', ROWS);
        const target = await table(places.target, 'app_tgt', 0);
        await mapping('E_APPEND', pgSource(), source, places.target, target);
        expect(await loadThroughKill('E_APPEND')).toMatchObject({ rows: ROWS });
        await expectSame(pgSource(), source, places.target, target);
      });

      it('UPSERT twice, the second run carrying changed rows', async () => {
        const worker = await h.startWorker();
        const source = await table(pgSource(), 'ups_src', ROWS);
        const target = await table(places.target, 'ups_tgt', 0, { primaryKey: true });
        await mapping('E_UPSERT', pgSource(), source, places.target, target, { loadmode: 'UPSERT', trgkeycols: 'ID' });
        expect(await load('E_UPSERT', 1)).toMatchObject({ rows: ROWS });
        await expectSame(pgSource(), source, places.target, target);
        await pgSource().touch(source, 9, 'changed ü');
        expect(await load('E_UPSERT', 2)).toMatchObject({ rows: ROWS });
        const rows = await places.target.rows(target);
        expect(rows.filter((t) => t.endsWith('|changed ü')).length).toBeGreaterThan(0);
        expect(rows).toEqual(places.target.arriving(await pgSource().rows(source)));
        await worker.kill();
      });

      it('TRUNCATE twice: the second run replaces the first, nothing doubled', async () => {
        const worker = await h.startWorker();
        const source = await table(pgSource(), 'trn_src', ROWS);
        const target = await table(places.target, 'trn_tgt', 0);
        await mapping('E_TRUNC', pgSource(), source, places.target, target, { loadmode: 'TRUNCATE' });
        for (const run of [1, 2]) {
          expect(await load('E_TRUNC', run)).toMatchObject({ rows: ROWS });
          await expectSame(pgSource(), source, places.target, target);
        }
        await worker.kill();
      });
    });

    describe(`${engine.name} into ${engine.name}`, () => {
      it('KEY, exactly', async () => {
        const worker = await h.startWorker();
        const source = await table(places.source, 'self_src', ROWS);
        const target = await table(places.target, 'self_tgt', 0);
        await mapping('E_SELF', places.source, source, places.target, target);
        expect(await load('E_SELF')).toMatchObject({ rows: ROWS });
        await expectSame(places.source, source, places.target, target);
        await worker.kill();
      });
    });
  });
}
