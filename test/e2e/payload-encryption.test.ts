// Encrypted payloads (DMS_PAYLOAD_KEYS): a load's whole history holds no key value of the
// mapping in plain text (inputs, results, heartbeats, summaries, signals, failure messages),
// while `dms` reads everything back; `dms codec-server` opens the history for the Temporal
// CLI and Web UI; after a key rotation, old histories still open and still replay.
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmCodec, ENCODED_FAILURES, parsePayloadKeys } from '../../common/payload-codec';
import { freePort, temporalCli } from '../../scripts/temporal-dev';
import { registerMapping } from '../support/fact-load';
import { openHarness, waitUntil, type Harness } from '../support/harness';
import { tableDigest, withClient } from '../support/postgres';
import { startWorker, type WorkerProcess } from '../support/worker-process';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const DMS = path.join(ROOT, 'bin', 'dms.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-codec-'));
const OLD = `k0:${randomBytes(32).toString('base64')}`;
const NEW = `k1:${randomBytes(32).toString('base64')}`;
/** Every key value starts so; nothing else in a history does. */
const MARK = 'ckpt-';
const ROWS = 3000;
const CHROMIUM = process.env.DMS_CHROMIUM || '/usr/bin/chromium';
const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
let h: Harness;
let bundle: string;
const workers: WorkerProcess[] = [];
let uiCodec: ChildProcess | undefined;

const dms = (env: Record<string, string>, ...args: string[]) =>
  run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/** `temporal workflow show -o json` of every run of a workflow, with extra flags (a codec endpoint). */
function shown(workflowId: string, ...flags: string[]): unknown[] {
  const out = execFileSync(
    temporalCli(),
    [
      'workflow',
      'show',
      '--address',
      h.server.address,
      '--namespace',
      h.server.namespace,
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      ...flags,
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return [JSON.parse(out)];
}

/** Every string of a history, and each decoded from base64 too, so a payload's plain text shows. */
function plainText(history: unknown[]): string {
  const texts: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      texts.push(value, Buffer.from(value, 'base64').toString('utf8'));
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach(visit);
    }
  };
  visit(history);
  return texts.join('\n');
}

/** The key ids of the sealed payloads in a history. */
function keyIds(history: unknown[]): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (value && typeof value === 'object') {
      const metadata = (value as { metadata?: Record<string, string> }).metadata;
      if (metadata?.['encryption-key-id']) ids.add(Buffer.from(metadata['encryption-key-id'], 'base64').toString());
      Object.values(value).forEach(visit);
    }
  };
  visit(history);
  return ids;
}

/** `dms codec-server` as an operator starts it; resolves with the URL it prints. */
function startCodecServer(
  listen: string,
  env: Record<string, string>,
  ...args: string[]
): { child: ChildProcess; url: Promise<string> } {
  const child = execFile(process.execPath, [DMS, 'codec-server', '--listen', listen, ...args], {
    env: { ...process.env, DMS_PAYLOAD_KEYS: `${NEW},${OLD}`, ...env },
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /codec-server: (http:\/\/\S+) for/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`codec-server exited ${code}: ${out}`)));
  });
  return { child, url };
}

async function createSource(table: string): Promise<void> {
  await withClient(h.dbs.source, (c) =>
    c.query(
      `CREATE TABLE ${table} (k text PRIMARY KEY, v int NOT NULL, note text);
       INSERT INTO ${table} SELECT '${MARK}' || lpad(g::text, 6, '0'), g, 'row ' || g FROM generate_series(1, ${ROWS}) g`,
    ),
  );
}

async function encryptedWorker(keys: string): Promise<WorkerProcess> {
  const w = await startWorker({ ...h.workerEnv, DMS_PAYLOAD_KEYS: keys, DMS_WORKFLOW_BUNDLE: bundle });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  // The dev server's Web UI calls a codec server, as an operator would set it up.
  const codecPort = await freePort();
  h = await openHarness('codec', {}, { webUi: true, uiCodecEndpoint: `http://127.0.0.1:${codecPort}` });
  uiCodec = startCodecServer(`127.0.0.1:${codecPort}`, {}, '--origin', h.server.uiAddress!).child;
  // A bundle made as `npm run bundle` makes it with DMS_PAYLOAD_KEYS set.
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(ROOT, 'workflows', 'index.ts'),
    workflowInterceptorModules: [path.join(ROOT, 'workflows', 'log-fields.ts')],
    failureConverterPath: `${ENCODED_FAILURES}.ts`,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  bundle = path.join(dir, 'bundle.js');
  writeFileSync(bundle, code);
  await createSource('enc_src');
  await withClient(h.dbs.target, (c) =>
    c.query(
      `CREATE TABLE enc_tgt (k text NOT NULL, v int NOT NULL, note text); CREATE TABLE enc_tgt2 (LIKE enc_tgt); CREATE TABLE enc_plain (LIKE enc_tgt)`,
    ),
  );
  await registerMapping(h.dbs, {
    mapref: 'ENC_PLAIN',
    batchSize: 500,
    srcquery: 'SELECT * FROM enc_src',
    trgtbnm: 'ENC_PLAIN',
    chkpntcolumn: 'K',
  });
  await registerMapping(h.dbs, {
    mapref: 'ENC',
    batchSize: 500,
    srcquery: 'SELECT * FROM enc_src',
    trgtbnm: 'ENC_TGT',
    chkpntcolumn: 'K',
  });
  await registerMapping(h.dbs, {
    mapref: 'ENC2',
    batchSize: 500,
    srcquery: 'SELECT * FROM enc_src',
    trgtbnm: 'ENC_TGT2',
    chkpntcolumn: 'K',
  });
  await registerMapping(h.dbs, {
    mapref: 'ENC_BAD',
    batchSize: 500,
    srcquery: `SELECT k, v, note, ckpt_missing_col FROM enc_src`,
    trgtbnm: 'ENC_PLAIN',
    chkpntcolumn: 'K',
  });
}, 240_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  uiCodec?.kill('SIGTERM');
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('encrypted payloads', () => {
  it('without DMS_PAYLOAD_KEYS nothing changes, and the key values show (so the checks below can fail)', async () => {
    const plain = await h.startWorker();
    const result = await dms({}, 'run', 'ENC_PLAIN', '--wait');
    expect(result.stdout).toMatch(/ENC_PLAIN: completed run \d+: 3,000 rows in 6 batches/);
    const history = shown('dms-ENC_PLAIN');
    expect(plainText(history)).toContain(`${MARK}003000`);
    expect(keyIds(history)).toEqual(new Set());
    await plain.kill();
  });

  it('a load ends exact, and its whole history holds no key value in plain text', async () => {
    const worker = await encryptedWorker(OLD);
    const result = await dms({ DMS_PAYLOAD_KEYS: OLD }, 'run', 'ENC', '--wait');
    expect(result.stderr).toBe('');
    // The CLI read the progress query's answers (sealed) back: rows, batches and the checkpoint.
    expect(result.stdout).toMatch(/ENC: completed run \d+: 3,000 rows in 6 batches/);
    expect(await tableDigest(h.dbs.target, 'enc_tgt', 'k')).toEqual(await tableDigest(h.dbs.source, 'enc_src', 'k'));
    const history = shown('dms-ENC');
    expect(plainText(history)).not.toContain(MARK);
    expect(plainText(history)).not.toContain('row 1');
    expect(keyIds(history)).toEqual(new Set(['k0']));
    // A terminal without the keys cannot read the answer, and is told what to set.
    const blind = await dms({}, 'run', 'ENC', '--wait');
    expect(blind.code).toBe(1);
    expect(blind.stderr).toBe(
      `dms: Temporal holds this workflow's payloads encrypted (binary/encrypted), and DMS_PAYLOAD_KEYS is not set here. Fix: set DMS_PAYLOAD_KEYS as the workers have it\n`,
    );
    await worker.kill();
  });

  it('a failure message travels sealed, and `dms run --wait` still prints it', async () => {
    const worker = await encryptedWorker(OLD);
    const result = await dms({ DMS_PAYLOAD_KEYS: OLD }, 'run', 'ENC_BAD', '--wait');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ckpt_missing_col');
    // Said once: not also as the reason for a missing estimate.
    expect(`${result.stdout}${result.stderr}`.match(/Mapping ENC_BAD:/g)).toHaveLength(1);
    expect(plainText(shown('dms-ENC_BAD'))).not.toContain('ckpt_missing_col');
    await worker.kill();
  });

  it('after a rotation, new payloads use the new key; `dms codec-server` opens old and new for the Temporal CLI; old histories replay', async () => {
    const worker = await encryptedWorker(`${NEW},${OLD}`);
    const result = await dms({ DMS_PAYLOAD_KEYS: `${NEW},${OLD}` }, 'run', 'ENC2', '--wait');
    expect(result.stdout).toMatch(/ENC2: completed run \d+: 3,000 rows in 6 batches/);
    await worker.kill();

    const auth = `Bearer ${randomBytes(8).toString('hex')}`;
    const codec = startCodecServer('127.0.0.1:0', { DMS_CODEC_AUTH: auth });
    try {
      const url = await codec.url;
      const viaCodec = (workflowId: string) =>
        plainText(shown(workflowId, '--codec-endpoint', url, '--codec-auth', auth));
      expect(viaCodec('dms-ENC')).toContain(`${MARK}003000`);
      const rotated = shown('dms-ENC2');
      expect(keyIds(rotated)).toEqual(new Set(['k1']));
      expect(plainText(rotated)).not.toContain(MARK);
      expect(viaCodec('dms-ENC2')).toContain(`${MARK}003000`);
    } finally {
      codec.child.kill('SIGTERM');
    }

    // Replay of the k0 history: with the old key still listed it replays; dropped, it cannot be read.
    const history = await h.client.workflow.getHandle('dms-ENC').fetchHistory();
    const replay = (keys: string) =>
      Worker.runReplayHistory(
        // The bundle holds the workflows' failure converter; a replay runs no activity.
        {
          workflowBundle: { codePath: bundle },
          dataConverter: { payloadCodecs: [new AesGcmCodec(parsePayloadKeys(keys))] },
        },
        history,
        'dms-ENC',
      );
    await expect(replay(`${NEW},${OLD}`)).resolves.toBeUndefined();
    await expect(replay(NEW)).rejects.toThrow(/k0, which DMS_PAYLOAD_KEYS does not list/);
  });

  it.skipIf(!existsSync(CHROMIUM) && !IN_CI)(
    'the Web UI shows the sealed history in plain text through `dms codec-server`',
    async () => {
      const { runId } = await h.client.workflow.getHandle('dms-ENC').describe();
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
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const artifacts = path.join(ROOT, 'test-artifacts');
        mkdirSync(artifacts, { recursive: true });
        // The summary `dms run` set, sealed in the history, opened by the codec server for the browser.
        await page.goto(
          new URL(
            `/namespaces/${encodeURIComponent(h.server.namespace)}/workflows/dms-ENC/${runId}/user-metadata`,
            h.server.uiAddress!,
          ).toString(),
        );
        await expect.poll(() => page.locator('iframe[title="output"]').count(), { timeout: 30_000 }).toBeGreaterThan(0);
        await expect
          .poll(() => page.frameLocator('iframe[title="output"]').first().locator('body').innerText(), {
            timeout: 30_000,
          })
          .toContain('ENC: SRC → PUBLIC.ENC_TGT (KEY on K)');
        await page.screenshot({ path: path.join(artifacts, 'web-ui-codec.png'), fullPage: true });
        // The events' payloads: the batch activities' results, in the JSON they were written in.
        await page.goto(
          new URL(
            `/namespaces/${encodeURIComponent(h.server.namespace)}/workflows/dms-ENC/${runId}/history`,
            h.server.uiAddress!,
          ).toString(),
        );
        await expect
          .poll(async () => (await page.innerText('body')).match(/\{"epoch":\d+,"strategy":"KEY"/g)?.length ?? 0, {
            timeout: 30_000,
          })
          .toBeGreaterThan(0);
        await page.screenshot({ path: path.join(artifacts, 'web-ui-codec-history.png'), fullPage: true });
      } finally {
        await browser.close();
      }
    },
  );

  it('a worker refuses a prebuilt bundle that disagrees with DMS_PAYLOAD_KEYS, in one line', async () => {
    const refused = await startWorker({ ...h.workerEnv, DMS_PAYLOAD_KEYS: OLD }, { cli: true }).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(refused).toMatch(
      /DMS_WORKFLOW_BUNDLE \(.+\) was built without DMS_PAYLOAD_KEYS, so its workflows would write failure messages in plain text\. Fix: rebuild it/,
    );
    expect(refused).not.toMatch(/^\s+at /m);
  });
});
