// The browser check: a real load on a real dev server, then headless Chromium (Debian's
// package, driven by playwright-core) opens the server's Temporal Web UI, filters the
// workflows by the search attribute DmsMapref, finds the run, and saves a screenshot to
// test-artifacts/web-ui.png.
//
// Chromium is /usr/bin/chromium, or DMS_CHROMIUM. Without it the check is skipped locally
// (with a message) but fails in CI (CI=true), where .ci/run installs it.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactSource, createFactTarget, registerMapping, runs } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest } from '../support/postgres';

const CHROMIUM = process.env.DMS_CHROMIUM || '/usr/bin/chromium';
const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SCREENSHOT = path.join(__dirname, '..', '..', 'test-artifacts', 'web-ui.png');
const ROWS = 20_000;

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`web-ui.test.ts skipped: no Chromium at ${CHROMIUM} (install it with \`apt-get install -y chromium\`, or set DMS_CHROMIUM)`);
}

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the Temporal Web UI', () => {
  let h: Harness;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM}: CI installs it with apt-get (.ci/run); set DMS_CHROMIUM to use another`);
    h = await openHarness('webui', {}, { webUi: true });
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
    expect(await tableDigest(h.dbs.target, table, 'sale_id')).toEqual(await tableDigest(h.dbs.source, 'sales', 'sale_id'));
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
        for await (const w of h.client.workflow.list({ query: `DmsMapref="${mapref}" AND DmsStatus="PC"` })) return w.status.name === 'COMPLETED';
        return false;
      });
    }
    // The UI is served by the dev server beside its frontend; it may answer a moment later.
    await waitUntil('the Web UI', () => fetch(h.server.uiAddress!).then((r) => r.ok, () => false), 30_000, 250);
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
});
