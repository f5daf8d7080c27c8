// How the worker and every `dms` command reach Temporal, the ecosystem's way: the SDK's own
// loader (@temporalio/envconfig) reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
// TEMPORAL_TLS and the TLS certificate variables (TEMPORAL_TLS_CLIENT_CERT_PATH, …_KEY_PATH,
// TEMPORAL_TLS_SERVER_CA_CERT_PATH, or their _DATA forms), and a profile of the standard
// config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), the variables winning over the file,
// exactly as the Temporal CLI does. Without any of them: the dev server on 127.0.0.1:7233.
import net from 'node:net';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { EnvError } from './errors';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** For NativeConnection.connect (the worker) and Connection.connect (clients) alike. */
  options: Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;
  /** Where and how, for messages: never a key or a certificate. */
  describe: string;
}

const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** The variables of env that are set (envconfig takes a plain record of strings). */
function defined(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const profile = env.TEMPORAL_PROFILE || undefined;
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ ...(profile ? { profile } : {}), overrideEnvVars: defined(env) });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new EnvError(
      `Cannot read the Temporal connection settings${profile ? ` (profile ${profile})` : ''}: ${first}. Fix: check TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE and the TEMPORAL_TLS_* paths`,
    );
  }
  const { tls, apiKey, metadata } = loaded.connectionOptions;
  const address = loaded.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const how = [tls ? 'TLS' : null, apiKey ? 'an API key' : null, profile ? `profile ${profile}` : null].filter(Boolean);
  return {
    address,
    namespace: loaded.namespace ?? 'default',
    options: {
      address,
      ...(tls !== undefined ? { tls } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(metadata ? { metadata } : {}),
    },
    describe: `${address}${how.length > 0 ? ` (${how.join(', ')})` : ''}`,
  };
}

/**
 * What a TLS handshake with the frontend says, with the same CA, name and client certificate
 * (gRPC reports a refused certificate only as a connection that did not come up in time);
 * null when it succeeds or TLS is off.
 */
async function tlsDiagnosis(target: TemporalTarget, timeoutMs = 3000): Promise<string | null> {
  const config = target.options.tls;
  if (!config) return null;
  const settings = typeof config === 'object' ? config : {};
  const [host, port] = splitAddress(target.address);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      ALPNProtocols: ['h2'],
      servername: settings.serverNameOverride ?? (net.isIP(host) ? undefined : host),
      ...(settings.serverRootCACertificate ? { ca: Buffer.from(settings.serverRootCACertificate) } : {}),
      ...(settings.clientCertPair
        ? { cert: Buffer.from(settings.clientCertPair.crt), key: Buffer.from(settings.clientCertPair.key) }
        : {}),
      ...(settings.serverNameOverride && net.isIP(host)
        ? {
            checkServerIdentity: (_host: string, cert: tls.PeerCertificate) =>
              tls.checkServerIdentity(settings.serverNameOverride!, cert),
          }
        : {}),
    });
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once('secureConnect', () => done(null));
    // Refused or unknown: nothing to do with TLS, said as it is; anything else failed the handshake.
    const unreachable = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'];
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(unreachable.includes(err.code ?? '') ? err.message : `the TLS handshake fails: ${err.message}`),
    );
  });
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}

/** One line for a connection to Temporal that failed: where, how, the cause, and what to check. */
export async function temporalConnectError(target: TemporalTarget, err: unknown): Promise<EnvError> {
  // Reached, and refused: UNAUTHENTICATED (16) or PERMISSION_DENIED (7), as a wrong, expired or
  // revoked API key or client certificate is.
  const first = ((err as Error)?.message ?? String(err)).split('\n')[0];
  const refusal = refusedBy(err);
  if (refusal) {
    return new EnvError(
      `Temporal at ${target.describe} refused the credentials: ${refusal}. Fix: check TEMPORAL_API_KEY (a key that is current and may use namespace ${target.namespace}), or the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH) the cluster expects`,
    );
  }
  const cause = (await tlsDiagnosis(target)) ?? first;
  const hint = /certificate|self[- ]signed|unknown ca|handshake|tls|ssl/i.test(cause)
    ? 'set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server certificate, TEMPORAL_TLS_SERVER_NAME to the name it is issued to, and TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH for mTLS'
    : target.options.tls
      ? 'check TEMPORAL_ADDRESS (and TEMPORAL_API_KEY or the client certificate the cluster expects)'
      : 'start it with `npm run temporal` (or `npm run dev`), or set TEMPORAL_ADDRESS (and TEMPORAL_TLS, TEMPORAL_API_KEY for a cluster or Temporal Cloud)';
  return new EnvError(`Cannot reach Temporal at ${target.describe}: ${cause}. Fix: ${hint}`);
}

/** The gRPC refusal (UNAUTHENTICATED, PERMISSION_DENIED) in an error or its causes, in one line. */
function refusedBy(err: unknown): string | null {
  for (
    let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    const line = (e.message ?? '').split('\n')[0];
    if (e.code === 16 || e.code === 7 || /\b(UNAUTHENTICATED|PERMISSION_DENIED)\b/.test(line)) return line;
  }
  return null;
}

/** A client connection to the target (the CLI's, and the worker's own client), failing in one line. */
export function connectClient(target: TemporalTarget, connectTimeoutMs = 10_000): Promise<Connection> {
  return Connection.connect({ ...target.options, connectTimeout: connectTimeoutMs }).catch(async (err: unknown) => {
    throw await temporalConnectError(target, err);
  });
}
