// Metrics and machine-readable logs, end to end: a worker with DMS_METRICS_ADDRESS and
// DMS_LOG_FORMAT=json runs a real load (PostgreSQL to PostgreSQL, with a stall, a retried
// failure, and rows the target's CHECK refuses, quarantined under REJECTLMT). /metrics is
// scraped while the load runs; the worker's output is parsed line by line.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/temporal-dev';
import { createFactSource, createFactTarget, registerMapping } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { withClient } from '../support/postgres';
import { sample, scrape as scrapeAt } from '../support/metrics';

const ROWS = 12_000;
/** Rows the target's CHECK (store_id <> 42) refuses, quarantined under REJECTLMT, among the first `n`. */
const refused = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((g) => g % 97 === 42).length;
let h: Harness;
let address: string;

const scrape = () => scrapeAt(address);

beforeAll(async () => {
  address = `127.0.0.1:${await freePort()}`;
  h = await openHarness('metrics', { DMS_METRICS_ADDRESS: address, DMS_LOG_FORMAT: 'json' });
  await createFactSource(h.dbs.source, ROWS);
  await createFactTarget(h.dbs.target);
  await withClient(h.dbs.target, (c) =>
    c.query(`ALTER TABLE sales_copy ADD CONSTRAINT store_ck CHECK (store_id <> 42)`),
  );
  await registerMapping(h.dbs, { mapref: 'METERED', batchSize: 1000, columns: { rejectlmt: 1000 } });
});

afterAll(async () => {
  await h?.close();
});

describe('a worker with DMS_METRICS_ADDRESS and DMS_LOG_FORMAT=json', () => {
  it('serves its counters moving during a load, the SDK worker metrics and the run gauges; logs one JSON object a line', async () => {
    const worker = await h.startWorker({
      faults: [
        { point: 'beforeCommit', batch: 3, attempt: 1, action: 'fail' },
        { point: 'beforeLock', batch: 7, action: 'stall', ms: 3000 },
      ],
    });
    const handle = await h.client.workflow.start('dmsJob', {
      taskQueue: h.taskQueue,
      workflowId: 'dms-METERED',
      args: [{ mapref: 'METERED' }],
    });
    // Mid-load: batch 7 stalls, with batches 1–6 committed.
    await worker.waitFor(/fault: stall start at beforeLock of batch 7/);
    const during = await scrape();
    expect(sample(during, 'dms_rows_loaded_total', { mapref: 'METERED' })).toBe(6000 - refused(6000));
    expect(sample(during, 'dms_rows_rejected_total', { mapref: 'METERED' })).toBe(refused(6000));
    expect(sample(during, 'dms_batches_committed_total', { mapref: 'METERED' })).toBe(6);
    expect(sample(during, 'dms_attempt_retries_total', { mapref: 'METERED', error_class: 'TransientError' })).toBe(1);
    // The SDK's own worker metrics, from the same exporter.
    expect([...during.keys()].some((k) => k.startsWith('temporal_worker_task_slots_used'))).toBe(true);
    expect(
      await waitUntil(
        'the active-run gauge',
        async () => sample(await scrape(), 'dms_active_runs', { mapref: 'METERED' }) === 1,
        15_000,
      ),
    ).toBe(true);

    expect(await handle.result()).toMatchObject({ rows: ROWS - refused(ROWS) });
    const after = await scrape();
    expect(sample(after, 'dms_rows_loaded_total', { mapref: 'METERED' })).toBe(ROWS - refused(ROWS));
    expect(sample(after, 'dms_rows_rejected_total', { mapref: 'METERED' })).toBe(refused(ROWS));
    expect(sample(after, 'dms_batches_committed_total', { mapref: 'METERED' })).toBe(12);
    expect(sample(after, 'dms_batch_duration_count', { mapref: 'METERED' })).toBe(12);
    // Batch 7 waited 3 s: one batch sits above the 2.5 s bucket.
    expect(sample(after, 'dms_batch_duration_bucket', { mapref: 'METERED', le: '2.5' })).toBe(11);
    const ended = await waitUntil(
      'the completed-run gauges',
      async () => {
        const s = await scrape();
        const since = sample(s, 'dms_seconds_since_last_completed_run', { mapref: 'METERED' });
        return since !== undefined && sample(s, 'dms_active_runs', { mapref: 'METERED' }) === 0
          ? { since, at: sample(s, 'dms_last_completed_run_timestamp', { mapref: 'METERED' })! }
          : undefined;
      },
      15_000,
    );
    expect(ended.since).toBeLessThan(30);
    expect(Math.abs(ended.at - Date.now() / 1000)).toBeLessThan(30);
    // Every dms_ metric the docs, the alert and the dashboard name is one the worker serves.
    const served = [...(await scrape()).keys()];
    const docs = ['metrics.md', 'grafana/dms-etl.json']
      .map((f) => readFileSync(path.join(__dirname, '..', '..', 'docs', f), 'utf8'))
      .join('\n');
    const named = new Set(docs.match(/\bdms_[a-z_]+/g));
    expect(named.size).toBeGreaterThan(5);
    // A counter is served once it counted: this load has no row wider than DMS_BATCH_BYTES (e2e/wide-rows.test.ts scrapes that one).
    const elsewhere = ['dms_wide_rows_alone_total'];
    expect([...named].filter((name) => !elsewhere.includes(name) && !served.some((k) => k.startsWith(name)))).toEqual(
      [],
    );

    await worker.kill();
    // Every line is one JSON object, but the test worker's own fault notices.
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('fault: '));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.find((e) => String(e.message).startsWith('dms worker: polling task queue'))).toMatchObject({
      level: 'info',
    });
    // An activity's lines name the mapping and the run (the failed attempt of the first slice, here).
    const activityLine = entries.find((e) => e.activityType && e.message === 'Activity failed');
    expect(activityLine).toMatchObject({
      level: 'warn',
      mapref: 'METERED',
      run: expect.any(Number),
      error: 'fault: the target connection was lost [SQLSTATE 08006]',
    });
    // A workflow's lines name the mapping.
    const workflowLine = entries.find((e) => e.workflowType === 'dmsJob' && e.sdkComponent === 'workflow');
    expect(workflowLine).toMatchObject({
      mapref: 'METERED',
      message: expect.stringMatching(/^Mapping METERED: CHKPNTSTRATEGY is 'KEY'/),
    });
  });
});
