// Temporal over TLS, configured the ecosystem's way (TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH,
// read by @temporalio/envconfig): the dev server has no TLS of its own, so a TLS-terminating
// proxy with a certificate from a CA this test makes (openssl) stands in front of it. A worker
// and `dms run --wait` connect through it with the CA, and fail in one clear line without it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../support/certificates';
import { createFactSource, createFactTarget, registerMapping } from '../support/fact-load';
import { openHarness, type Harness } from '../support/harness';
import { tableDigest } from '../support/postgres';

const run = promisify(execFile);
const DMS = path.join(__dirname, '..', '..', 'bin', 'dms.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dms-tls-'));
let h: Harness;
let proxy: tls.Server;
let proxyAddress: string;
/** A frontend that refuses every call as unauthenticated, as a cluster does a wrong API key. */
let refusing: http2.Http2SecureServer;
let refusingAddress: string;
const authorizations: string[] = [];
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  makeTestCertificates(dir);
  h = await openHarness('tls');
  await createFactSource(h.dbs.source, 5000);
  const [host, port] = [h.server.address.split(':')[0], Number(h.server.address.split(':')[1])];
  // TLS in front, the dev server's plain gRPC (HTTP/2) behind: bytes piped both ways.
  proxy = tls.createServer(
    {
      key: readFileSync(path.join(dir, 'server.key')),
      cert: readFileSync(path.join(dir, 'server.pem')),
      ALPNProtocols: ['h2'],
    },
    (client) => {
      const server = net.connect(port, host);
      for (const s of [client, server]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    },
  );
  proxy.on('tlsClientError', () => undefined); // a client refusing the certificate: the test reads its side
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyAddress = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  refusing = http2.createSecureServer({
    key: readFileSync(path.join(dir, 'server.key')),
    cert: readFileSync(path.join(dir, 'server.pem')),
    ALPNProtocols: ['h2'],
  });
  refusing.on('stream', (stream, headers) => {
    authorizations.push(String(headers.authorization ?? ''));
    stream.on('data', () => undefined);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () =>
      stream.sendTrailers({ 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' }),
    );
    stream.end();
  });
  refusing.on('session', (session) => session.on('error', () => undefined));
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  refusingAddress = `127.0.0.1:${(refusing.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  // Connections that clients keep open would hold close() up: they end here.
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (refusing ? refusing.close(() => resolve()) : resolve()));
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a worker or a `dms` command reaching Temporal through the proxy. */
function throughTls(withCa: boolean): Record<string, string> {
  // The certificate's name: TLS names a server by DNS name, never by IP address (RFC 6066).
  return {
    TEMPORAL_ADDRESS: proxyAddress,
    TEMPORAL_TLS: 'true',
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    ...(withCa ? { TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem') } : {}),
  };
}

const dms = (env: Record<string, string>, ...args: string[]) =>
  run(process.execPath, [DMS, ...args], { env: { ...process.env, ...h.workerEnv, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('Temporal over TLS', () => {
  it('runs a load with a worker and `dms run --wait` that reach Temporal only through TLS, with the CA', async () => {
    await createFactTarget(h.dbs.target, 't_tls');
    await registerMapping(h.dbs, { mapref: 'TLS_LOAD', batchSize: 1000, trgtbnm: 'T_TLS' });
    const worker = await h.startWorker({ env: throughTls(true) });
    expect(worker.output()).toContain(`polling task queue ${h.taskQueue} on ${proxyAddress} (TLS)`);
    const result = await dms(throughTls(true), 'run', 'TLS_LOAD', '--wait');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/TLS_LOAD: completed run \d+: 5,000 rows in 5 batches/);
    expect(await tableDigest(h.dbs.target, 't_tls', 'sale_id')).toEqual(
      await tableDigest(h.dbs.source, 'sales', 'sale_id'),
    );
    await worker.kill();
  });

  it('refuses a server certificate it cannot trust, in one line naming the fix, for the CLI and the worker', async () => {
    const cli = await dms(throughTls(false), 'run', 'TLS_LOAD');
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(
      new RegExp(
        `^dms: Cannot reach Temporal at ${proxyAddress} \\(TLS\\): .+\\. Fix: set TEMPORAL_TLS_SERVER_CA_CERT_PATH`,
      ),
    );
    // As a user starts it (the dms CLI), not through the tests' worker entry.
    const worker = await h.startWorker({ env: throughTls(false), cli: true }).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(worker).toMatch(
      new RegExp(`Cannot reach Temporal at ${proxyAddress} \\(TLS\\): .+\\. Fix: set TEMPORAL_TLS_SERVER_CA_CERT_PATH`),
    );
    expect(worker).not.toMatch(/^\s+at /m);
  });

  it('a refused API key ends in one line that names TEMPORAL_API_KEY, for the CLI and the worker, and the key never shows', async () => {
    const env = { ...throughTls(true), TEMPORAL_ADDRESS: refusingAddress, TEMPORAL_API_KEY: 'wrong-key-3f9a' };
    const cli = await dms(env, 'run', 'TLS_LOAD');
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(
      new RegExp(
        `^dms: Temporal at ${refusingAddress} \\(TLS, an API key\\) refused the credentials: .*unauthorized.*\\. Fix: check TEMPORAL_API_KEY`,
        'i',
      ),
    );
    expect(cli.stderr).not.toContain('wrong-key-3f9a');
    // The key went to the server as Temporal Cloud takes it.
    expect(authorizations).toContain('Bearer wrong-key-3f9a');
    const worker = await h.startWorker({ env, cli: true }).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(worker).toMatch(
      new RegExp(
        `Temporal at ${refusingAddress} \\(TLS, an API key\\) refused the credentials: .*\\. Fix: check TEMPORAL_API_KEY`,
        'i',
      ),
    );
    expect(worker).not.toContain('wrong-key-3f9a');
    expect(worker).not.toMatch(/^\s+at /m);
  });
});
