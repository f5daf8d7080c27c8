// Starts the Temporal CLI's dev server: for `dms dev`, `npm run temporal` (scripts/temporal-dev.ts,
// settings in temporal-dev.yml), and startDevServer() for tests (free loopback ports, own db file).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { parse } from 'yaml';
import { z } from 'zod';
import { unknownKeys, unknownKeyText } from '../common/unknown-keys';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

const ROOT = path.join(__dirname, '..');

const DevServerConfig = z.object({
  ip: z.string().default('127.0.0.1'),
  port: z.number().int().positive().default(7233),
  uiPort: z.number().int().positive().optional(),
  namespace: z.string().default('default'),
  dbFilename: z.string().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('warn'),
  headless: z.boolean().default(false),
  /** Keep the server's own output out of the terminal (tests); shown only if it fails to start. */
  quiet: z.boolean().default(false),
  /** Register dms-etl's search attributes (DmsMapref, DmsStatus, DmsRowsLoaded). */
  searchAttributes: z.boolean().default(true),
  /**
   * Hand an activity scheduled by a workflow task straight back to the worker that completed
   * it (the server's system.enableActivityEagerExecution), saving a round trip per activity.
   */
  eagerActivities: z.boolean().default(true),
  /** The Web UI's codec server (`dms codec-server`), for payloads sealed with DMS_PAYLOAD_KEYS. */
  uiCodecEndpoint: z.string().url().optional(),
});
export type DevServerConfig = z.input<typeof DevServerConfig>;

export interface DevServer {
  address: string;
  uiAddress: string | null;
  namespace: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The Temporal CLI binary, built into the per-user cache when missing. */
export function temporalCli(): string {
  return execFileSync(path.join(ROOT, 'scripts', 'temporal-cli'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(
  address: string,
  namespace: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs} ms: ${String(last)}`);
}

export async function startDevServer(options: DevServerConfig = {}): Promise<DevServer> {
  const config = DevServerConfig.parse(options);
  // The HTTP API's and metrics' ports are picked here, free a moment before the server binds
  // them: another process (a connection's own local port) may take one meanwhile. Such a clash
  // of one of these ports gets fresh ones; a clash of the ports the caller chose does not.
  for (let attempt = 1; ; attempt++) {
    const own = [await freePort(config.ip), await freePort(config.ip)];
    try {
      return await startOnce(config, own[0], own[1]);
    } catch (err) {
      const clash = /listen(?:ing)? [^\n]*?:(\d+): bind: address already in use/.exec((err as Error).message);
      if (attempt >= 3 || !clash || !own.includes(Number(clash[1]))) throw err;
    }
  }
}

async function startOnce(
  config: z.output<typeof DevServerConfig>,
  httpPort: number,
  metricsPort: number,
): Promise<DevServer> {
  const cli = temporalCli();
  const args = [
    'server',
    'start-dev',
    '--ip',
    config.ip,
    '--port',
    String(config.port),
    '--namespace',
    config.namespace,
    '--log-level',
    config.logLevel,
  ];
  args.push('--http-port', String(httpPort), '--metrics-port', String(metricsPort));
  if (config.searchAttributes) {
    for (const { name, type } of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=${type}`);
  }
  if (config.eagerActivities) args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  if (config.headless) args.push('--headless');
  else if (config.uiPort) args.push('--ui-port', String(config.uiPort));
  if (config.uiCodecEndpoint && !config.headless) args.push('--ui-codec-endpoint', config.uiCodecEndpoint);
  if (config.dbFilename) {
    mkdirSync(path.dirname(config.dbFilename), { recursive: true });
    args.push('--db-filename', config.dbFilename);
  }
  const child = spawn(cli, args, {
    stdio: ['ignore', config.quiet ? 'pipe' : 'inherit', config.quiet ? 'pipe' : 'inherit'],
  });
  // Its first and last 4,000 characters: a Go panic names its cause first (a port already in
  // use), then prints a stack longer than that.
  let head = '';
  let tail = '';
  let dropped = false;
  const keep = (d: Buffer) => {
    const text = d.toString();
    const room = Math.max(0, 4000 - head.length);
    head += text.slice(0, room);
    const rest = tail + text.slice(room);
    dropped ||= rest.length > 4000;
    tail = rest.slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const address = `${config.ip}:${config.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilServing(address, config.namespace, child, 60_000);
  } catch (err) {
    await stop();
    const output = head + (dropped ? '\n…\n' : '') + tail;
    throw new Error(`${(err as Error).message}${output ? `\n${output}` : ''}`);
  }
  return {
    address,
    uiAddress: config.headless ? null : `http://${config.ip}:${config.uiPort ?? config.port + 1000}`,
    namespace: config.namespace,
    process: child,
    stop,
  };
}

/** Reads temporal-dev.yml strictly: a key the dev server does not take is an error naming the nearest one. */
export function readDevConfig(
  file = path.join(ROOT, 'temporal-dev.yml'),
  text = readFileSync(file, 'utf8'),
): DevServerConfig {
  const raw = (parse(text) ?? {}) as Record<string, unknown>;
  const known = Object.keys(DevServerConfig.shape);
  const unknown = unknownKeys(raw, known);
  if (unknown.length > 0) throw new Error(`${file}: ${unknown.map((u) => unknownKeyText(u, known)).join('; ')}`);
  const parsed = DevServerConfig.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const config = raw as DevServerConfig;
  return { ...config, dbFilename: config.dbFilename ? path.resolve(ROOT, config.dbFilename) : undefined };
}
