// `dms schedule` end to end: Temporal Schedules on a real dev server running loads on a real
// worker, seen and triggered with the Temporal CLI too; overlap skipped, and a `dms run`
// beside a scheduled run refused by the database's one-run-a-mapping guard.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalCli } from '../../scripts/temporal-dev';
import { createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const ROWS = 5_000;

let h: Harness;
let cli: string;

/** `dms …`: its exit code and output, whether it succeeds or not. */
async function dms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

function temporal(...args: string[]) {
  return run(cli, [...args, '--address', h.server.address, '--namespace', h.server.namespace], { timeout: 30_000 });
}

async function completedRuns(mapref: string) {
  return (await runs(h.dbs.metadata, mapref)).filter((r) => r.status === 'PC');
}

async function expectExact(table: string) {
  expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(
    await tableDigest(h.dbs.source, 'sales', 'sale_id'),
  );
}

beforeAll(async () => {
  h = await openHarness('sched');
  cli = temporalCli();
  await createFactSource(h.dbs.source, ROWS);
});

afterAll(async () => {
  await h?.close();
});

describe('dms schedule', () => {
  it('runs loads on an interval, each carrying DmsMapref from its start, seen and triggered by `temporal schedule` too', async () => {
    await createFactTarget(h.dbs.target, 't_sched');
    await registerMapping(h.dbs, {
      mapref: 'SCHED',
      batchSize: 1000,
      trgtbnm: 'T_SCHED',
      columns: { loadmode: 'TRUNCATE' },
    });
    const worker = await h.startWorker();
    const created = await dms('schedule', 'create', 'SCHED', '--every', '3s');
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain(
      'created schedule dms-schedule-SCHED: every 3s in UTC, overlap SKIP, catch-up window 1h',
    );
    expect(created.stdout).toMatch(/next runs: \d{4}-/);

    const done = await waitUntil(
      'two scheduled runs',
      async () => ((await completedRuns('SCHED')).length >= 2 ? completedRuns('SCHED') : false),
      60_000,
      250,
    );
    // Temporal adds the time of each run to the workflow id.
    for (const r of done) expect(r.wfid).toMatch(/^dms-SCHED-\d{4}-\d\d-\d\dT/);
    await expectExact('t_sched');
    // The search attribute is in the start event itself, as the schedule's action set it.
    const history = await h.client.workflow.getHandle(done[0].wfid!).fetchHistory();
    expect(
      Object.keys(history.events![0].workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields!),
    ).toContain('DmsMapref');
    // So is the summary the Web UI shows (a JSON string payload).
    expect(
      await h.client.workflow
        .getHandle(done[0].wfid!)
        .describe()
        .then((d) => d.staticSummary()),
    ).toBe('SCHED: SRC → PUBLIC.T_SCHED (KEY on SALE_ID)');
    const listed: string[] = [];
    for await (const w of h.client.workflow.list({ query: 'DmsMapref="SCHED"' })) listed.push(w.workflowId);
    expect(listed.length).toBeGreaterThanOrEqual(2);

    expect((await dms('schedule', 'pause', 'SCHED', '--note', 'test: quiet')).stdout).toContain(
      'schedule dms-schedule-SCHED paused',
    );
    expect((await dms('schedule', 'list')).stdout).toMatch(/^dms-schedule-SCHED +SCHED +every 3s in UTC +paused$/m);
    const { stdout: temporalList } = await temporal('schedule', 'list');
    expect(temporalList).toContain('dms-schedule-SCHED');
    // Paused: no new runs; a trigger through the Temporal CLI runs one anyway.
    await new Promise((r) => setTimeout(r, 4_000));
    const before = (await runs(h.dbs.metadata, 'SCHED')).length;
    await temporal('schedule', 'trigger', '--schedule-id', 'dms-schedule-SCHED');
    await waitUntil('the triggered run', async () => (await completedRuns('SCHED')).length > before, 30_000, 250);
    expect((await runs(h.dbs.metadata, 'SCHED')).length).toBe(before + 1);
    await expectExact('t_sched');

    const described = (await dms('schedule', 'describe', 'SCHED')).stdout;
    expect(described).toContain('schedule dms-schedule-SCHED runs mapping SCHED: every 3s in UTC');
    expect(described).toContain('overlap SKIP, catch-up window 3600s');
    expect(described).toContain('paused: test: quiet');
    expect(described).toMatch(/^ {2}\S+ {2}dms-SCHED-\S+ {2}run \d+ PC, 5000 rows$/m);

    expect((await dms('schedule', 'delete', 'SCHED')).stdout).toContain('schedule dms-schedule-SCHED deleted');
    expect((await temporal('schedule', 'list')).stdout).not.toContain('dms-schedule-SCHED');
    await worker.kill();
  });

  it('skips a trigger while its run is active, and refuses a `dms run` beside it: one run, loaded once', async () => {
    // No key on the target: a second load of the same rows would show.
    await createFactTarget(h.dbs.target, 't_schbusy');
    await registerMapping(h.dbs, { mapref: 'SCHBUSY', batchSize: 1000, trgtbnm: 'T_SCHBUSY' });
    // Batch 2 holds its transaction open for 8 s: the run is active meanwhile, through two
    // `dms` commands that take seconds each on a busy machine (the heartbeat timeout is 10 s).
    const worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 2, action: 'stall', ms: 8000 }] });
    // Once a year: only triggers run it here.
    expect((await dms('schedule', 'create', 'SCHBUSY', '--cron', '0 0 1 1 *')).code).toBe(0);
    expect((await dms('schedule', 'trigger', 'SCHBUSY')).stdout).toContain('schedule dms-schedule-SCHBUSY triggered');
    await worker.waitFor(/fault: stall start at beforeCommit of batch 2/);
    await dms('schedule', 'trigger', 'SCHBUSY');
    const [active] = await runs(h.dbs.metadata, 'SCHBUSY');
    const beside = await dms('run', 'SCHBUSY', '--wait');
    expect(beside.code).toBe(1);
    expect(beside.stderr).toContain(
      `Mapping SCHBUSY is busy: run ${active.prcid} of workflow ${active.wfid} is still running`,
    );

    await waitUntil('the scheduled run', async () => (await completedRuns('SCHBUSY')).length === 1, 60_000, 250);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await runs(h.dbs.metadata, 'SCHBUSY')).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
    await expectExact('t_schbusy');
    const described = (await dms('schedule', 'describe', 'SCHBUSY')).stdout;
    expect(described).toMatch(/runs taken 1, skipped while one ran 1,/);
    await dms('schedule', 'delete', 'SCHBUSY');
    await worker.kill();
  });

  it('fires at the same moment as `dms run`: exactly one runs, and the other is refused naming it', async () => {
    await createFactTarget(h.dbs.target, 't_schrace');
    await registerMapping(h.dbs, { mapref: 'SCHRACE', batchSize: 1000, trgtbnm: 'T_SCHRACE' });
    // Batch 2 holds its transaction 3 s: whichever start wins is still running when the other claims.
    const worker = await h.startWorker({ faults: [{ point: 'beforeCommit', batch: 2, action: 'stall', ms: 3000 }] });
    expect((await dms('schedule', 'create', 'SCHRACE', '--cron', '0 0 1 1 *')).code).toBe(0);
    const [, direct] = await Promise.all([dms('schedule', 'trigger', 'SCHRACE'), dms('run', 'SCHRACE', '--wait')]);
    await waitUntil('one completed run', async () => (await completedRuns('SCHRACE')).length === 1, 60_000, 250);
    await waitUntil(
      'both workflows closed',
      async () => {
        const open: string[] = [];
        for await (const w of h.client.workflow.list({ query: 'DmsMapref="SCHRACE" AND ExecutionStatus="Running"' }))
          open.push(w.workflowId);
        return open.length === 0;
      },
      30_000,
      250,
    );
    const log = await runs(h.dbs.metadata, 'SCHRACE');
    expect(log).toMatchObject([{ status: 'PC', trgrows: ROWS }]);
    await expectExact('t_schrace');
    // The loser wrote nothing and named the winner: the dms run, or the scheduled run.
    const failures: string[] = [];
    for await (const w of h.client.workflow.list({ query: 'DmsMapref="SCHRACE" AND ExecutionStatus="Failed"' }))
      failures.push(w.workflowId);
    expect(failures).toHaveLength(1);
    if (failures[0] === 'dms-SCHRACE')
      expect(direct.stderr).toContain(
        `Mapping SCHRACE is busy: run ${log[0].prcid} of workflow ${log[0].wfid} is still running`,
      );
    else expect(direct.code).toBe(0);
    await dms('schedule', 'delete', 'SCHRACE');
    await worker.kill();
  });

  it('warns of a cron time that daylight saving skips or repeats, and refuses bad options with one clear line', async () => {
    await registerMapping(h.dbs, { mapref: 'SCHDST', batchSize: 1000, trgtbnm: 'T_SCHED' });
    const berlin = await dms(
      'schedule',
      'create',
      'SCHDST',
      '--cron',
      '30 2 * * *',
      '--timezone',
      'Europe/Berlin',
      '--paused',
    );
    expect(berlin.stdout).toMatch(
      /warning: 02:30 does not exist in Europe\/Berlin on \d{4}-03-\d\d \(clocks go forward\): a run due then is skipped that day/,
    );
    expect(berlin.stdout).toMatch(
      /warning: 02:30 happens twice in Europe\/Berlin on \d{4}-10-\d\d \(clocks go back\): a run due then runs twice that day/,
    );
    const again = await dms('schedule', 'create', 'SCHDST', '--every', '1h');
    expect(again.stderr.trim()).toBe(
      'dms: SCHDST already has a schedule (dms-schedule-SCHDST); change it with `dms schedule update SCHDST`',
    );
    expect((await dms('schedule', 'update', 'SCHDST', '--cron', '0 4 * * *')).stdout).toBe(
      'updated schedule dms-schedule-SCHDST: cron "0 4 * * *" in Europe/Berlin\n',
    );
    await dms('schedule', 'delete', 'SCHDST');

    const cases: [string[], string][] = [
      [['create', 'SCHDST'], 'dms: dms schedule create needs --cron "<expr>" or --every <duration> (or both)'],
      [['create', 'SCHDST', '--every', '0s'], 'dms: --every takes a duration such as 30m, 6h or 1d, not "0s"'],
      [
        ['create', 'SCHDST', '--cron', '0 2 * *'],
        'dms: --cron takes five fields (minute hour day-of-month month day-of-week), such as "0 2 * * *", not "0 2 * *"',
      ],
      [
        ['create', 'SCHDST', '--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'],
        'dms: --timezone takes an IANA time zone such as UTC or Europe/Berlin, not "Mars/Olympus"',
      ],
      [
        ['create', 'NOJOB', '--every', '1h'],
        'dms: NOJOB has no job in DMS_JOB; validate the mapping and create it with `dms job sync NOJOB` first',
      ],
      [
        ['pause', 'NOJOB'],
        'dms: NOJOB has no schedule (dms-schedule-NOJOB); create one with `dms schedule create NOJOB --cron "0 2 * * *"`',
      ],
    ];
    for (const [args, message] of cases) {
      const out = await dms('schedule', ...args);
      expect(out.code, args.join(' ')).toBe(1);
      expect(out.stderr.trim()).toBe(message);
    }
    expect(
      await withClient(h.dbs.metadata, async (c) =>
        Number((await c.query(`SELECT count(*) AS n FROM dms_prclog WHERE mapref IN ('SCHDST', 'NOJOB')`)).rows[0].n),
      ),
    ).toBe(0);
  });
});
