// The browser check: real loads on a real dev server, then headless Chromium (Debian's
// package, driven by playwright-core) opens the server's Temporal Web UI. It filters the
// workflows by the search attribute DmsMapref and finds the run (screenshot
// test-artifacts/web-ui.png); then, on the page of a load paused part way, it reads the run's
// summary and current details (rows and checkpoint as DMS_CHKPNT holds them), the batch
// activities' summaries, and the signals the UI offers with their descriptions
// (test-artifacts/web-ui-run.png, web-ui-signal.png).
//
// Chromium is /usr/bin/chromium, or DMS_CHROMIUM. Without it the check is skipped locally
// (with a message) but fails in CI (CI=true), where .ci/run installs it.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointRow, createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { grouped } from '../../workflows/details';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest } from '../support/postgres';

const CHROMIUM = process.env.DMS_CHROMIUM || '/usr/bin/chromium';
const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const SCREENSHOT = path.join(ARTIFACTS, 'web-ui.png');
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const run = promisify(execFile);
const ROWS = 20_000;

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(
    `web-ui.test.ts skipped: no Chromium at ${CHROMIUM} (install it with \`apt-get install -y chromium\`, or set DMS_CHROMIUM)`,
  );
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the Temporal Web UI', () => {
  let h: Harness;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM)
      throw new Error(
        `no Chromium at ${CHROMIUM}: CI installs it with apt-get (.ci/run); set DMS_CHROMIUM to use another`,
      );
    // Short slices: the paused load has run batch activities of its own, with their summaries.
    h = await openHarness('webui', { DMS_ACTIVITY_SLICE_MS: '300' }, { webUi: true });
    await createFactSource(h.dbs.source, ROWS);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A mapping of its own target table, loaded to the end by a real worker, checked exactly. */
  async function load(mapref: string): Promise<string> {
    const table = `t_${mapref.toLowerCase()}`;
    await createFactTarget(h.dbs.target, table);
    await registerMapping(h.dbs, { mapref, batchSize: 2000, trgtbnm: table.toUpperCase() });
    const workflowId = `dms-${mapref}`;
    const handle = await h.client.workflow.start('dmsJob', { taskQueue: h.taskQueue, workflowId, args: [{ mapref }] });
    expect((await handle.result()).rows).toBe(ROWS);
    expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    expect((await runs(h.dbs.metadata, mapref)).map((r) => r.status)).toEqual(['PC']);
    return workflowId;
  }

  /** The Web UI's workflow list of the namespace, optionally filtered by a visibility query. */
  async function openWorkflows(page: Page, query?: string): Promise<void> {
    const url = new URL(`/namespaces/${encodeURIComponent(h.server.namespace)}/workflows`, h.server.uiAddress!);
    if (query) url.searchParams.set('query', query);
    await page.goto(url.toString(), { waitUntil: 'networkidle' });
  }

  it('lists the run of a mapping filtered by DmsMapref, and not the run of another mapping', async () => {
    const worker = await h.startWorker();
    const orders = await load('UI_ORDERS');
    const returns = await load('UI_RETURNS');
    await worker.kill();

    // The page reads the server's visibility store, as `temporal workflow list` does.
    for (const mapref of ['UI_ORDERS', 'UI_RETURNS']) {
      await waitUntil(`${mapref} in visibility`, async () => {
        for await (const w of h.client.workflow.list({ query: `DmsMapref="${mapref}" AND DmsStatus="PC"` }))
          return w.status.name === 'COMPLETED';
        return false;
      });
    }
    // The UI is served by the dev server beside its frontend; it may answer a moment later.
    await waitUntil(
      'the Web UI',
      () =>
        fetch(h.server.uiAddress!).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
      250,
    );
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });

    // Unfiltered, both runs are listed: what the filter then hides is really there.
    await openWorkflows(page);
    await expect.poll(() => page.getByText(orders, { exact: true }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText(returns, { exact: true }).count(), { timeout: 30_000 }).toBeGreaterThan(0);

    await openWorkflows(page, 'DmsMapref="UI_ORDERS"');
    await expect.poll(() => page.getByText(orders, { exact: true }).count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await page.getByText(returns, { exact: true }).count()).toBe(0);
    // The page shows the filter it applied.
    expect(await page.content()).toContain('DmsMapref');

    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  });

  it("shows a running load's summary, current details and activity summaries, and offers its signals with their input", async () => {
    const mapref = 'UI_LIVE';
    await createFactTarget(h.dbs.target, 't_ui_live');
    await registerMapping(h.dbs, { mapref, batchSize: 500, trgtbnm: 'T_UI_LIVE' });
    // Batch 3 waits past the slice's time, so that the pre-flight activity hands over and batch
    // activities follow; batch 20 waits 6 s before its commit, so that the pause (a `dms`
    // process, slow on a busy machine) arrives mid-load.
    const worker = await h.startWorker({
      faults: [
        { point: 'beforeCommit', batch: 3, action: 'stall', ms: 500 },
        { point: 'beforeCommit', batch: 20, action: 'stall', ms: 6000 },
      ],
    });
    const dms = (...args: string[]) =>
      run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv } });
    // Started as a user starts it: `dms run` sets the static summary.
    await dms('run', mapref);
    await worker.waitFor(/fault: stall start at beforeCommit of batch 20/);
    await dms('pause', mapref);
    await waitUntil(
      'the pause',
      async () => new RegExp(`Mapping ${mapref}: paused after batch \\d+`).test(h.workerOutput()),
      30_000,
      100,
    );
    const at = (await checkpointRow(h.dbs.target, mapref))!;
    const handle = h.client.workflow.getHandle(`dms-${mapref}`);
    const { runId } = await handle.describe();

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    // A running workflow's page keeps polling: wait for its parts, not for a quiet network.
    await page.goto(
      new URL(
        `/namespaces/${encodeURIComponent(h.server.namespace)}/workflows/dms-${mapref}/${runId}/user-metadata`,
        h.server.uiAddress!,
      ).toString(),
    );
    // The summary and the current details are Markdown, each rendered in a frame of its own.
    const frames = () => page.locator('iframe[title="output"]');
    await expect.poll(() => frames().count(), { timeout: 30_000 }).toBe(2);
    const summary = await page.frameLocator('iframe[title="output"]').first().locator('body').innerText();
    const details = await page.frameLocator('iframe[title="output"]').last().locator('body').innerText();
    expect(summary).toContain(`${mapref}: SRC → PUBLIC.T_UI_LIVE (KEY on SALE_ID)`);
    expect(details).toContain(`${mapref} · KEY · APPEND · run ${at.prcid} (DMS_PRCLOG)`);
    expect(details).toContain(`${grouped(at.trgrows)} rows in ${at.batchcnt} batches`);
    expect(details).toContain(`checkpoint ${at.chkpnt}`);
    expect(details).toContain('paused: signal resume');
    // The share and ETA against the source's estimate (the pre-flight's), as `dms run --wait` shows them.
    expect(details).toMatch(/~\d+% of an estimated [\d,]+ rows, ETA (\d+:\d\d|unknown)/);
    // The timeline's activities say where each slice started.
    await expect
      .poll(async () => (await page.innerText('body')).match(/batches from \d+, after key \d+/g)?.length ?? 0, {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    expect(await page.innerText('body')).toContain('checks the mapping, then the first batches');

    // The default tab (the event history) shows where the run stood at each slice: rows, rate, % and ETA.
    await page.goto(
      new URL(
        `/namespaces/${encodeURIComponent(h.server.namespace)}/workflows/dms-${mapref}/${runId}/history`,
        h.server.uiAddress!,
      ).toString(),
    );
    const progressLine =
      /[\d,]+ rows · [\d,]+ rows\/s · ~\d+% of ~[\d,]+ · ETA (\d+:\d\d|unknown) · batches from \d+, after key \d+/;
    await expect.poll(async () => progressLine.test(await page.innerText('body')), { timeout: 30_000 }).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-history.png'), fullPage: true });
    await page.goto(
      new URL(
        `/namespaces/${encodeURIComponent(h.server.namespace)}/workflows/dms-${mapref}/${runId}/user-metadata`,
        h.server.uiAddress!,
      ).toString(),
    );
    await expect.poll(() => frames().count(), { timeout: 30_000 }).toBe(2);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-run.png'), fullPage: true });

    // More Actions → Send a Signal lists the run's signals, each with its input format.
    await page.getByRole('button', { name: 'More Actions' }).first().click();
    await page.getByRole('menuitem', { name: /Send a Signal/ }).click();
    await page.locator('[data-testid="signal-select-button"]:visible').click();
    const offered = page.getByRole('option', { name: /resetCheckpoint/ }).first();
    await expect.poll(() => offered.count(), { timeout: 10_000 }).toBe(1);
    expect(await offered.innerText()).toContain('Input: {"to": "150000"}');
    for (const name of ['pause', 'resume'])
      expect(await page.getByRole('option', { name: new RegExp(`^${name}`) }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-signal.png'), fullPage: true });
    await page.close();

    await dms('resume', mapref);
    expect((await handle.result()).rows).toBe(ROWS);
    expect(await tableDigest(h.dbs.target, 't_ui_live', 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    await worker.kill();
  });
});
