// `dms codec-server`: the payload codec (common/payload-codec.ts) over HTTP, as the Temporal
// Web UI and the Temporal CLI (`--codec-endpoint`) call one: POST <endpoint>/decode and
// /encode with `{"payloads": [{"metadata": {…}, "data": "<base64>"}]}` (proto3 JSON), the
// same shape back. It answers cross-origin calls from the Web UI's origins only, and with
// DMS_CODEC_AUTH set it asks every call for that Authorization header. It logs no payload.
import http from 'node:http';
import { temporal } from '@temporalio/proto';
import { CommandError, EnvError } from '../common/errors';
import { AesGcmCodec, PAYLOAD_KEYS_VARIABLE, payloadKeysFrom } from '../common/payload-codec';

export interface CodecServerOptions {
  host: string;
  port: number;
  /** Web UI origins allowed to call from a browser, e.g. http://localhost:8233. */
  origins: string[];
  /** The Authorization header every call must carry (DMS_CODEC_AUTH), or none. */
  authorization?: string;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const Payloads = temporal.api.common.v1.Payloads;

export async function startCodecServer(
  options: CodecServerOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CodecServer> {
  const keys = payloadKeysFrom(env);
  if (!keys)
    throw new EnvError(
      `${PAYLOAD_KEYS_VARIABLE} is not set: the codec server has no key to open payloads with. Fix: set it as the workers have it`,
    );
  const codec = new AesGcmCodec(keys);

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && options.origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const answer = (status: number, body?: unknown) => {
      if (body === undefined) {
        res.writeHead(status).end();
      } else {
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      }
    };
    if (req.method === 'OPTIONS') {
      // The browser's preflight: it carries no credentials, so it is answered without them.
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      return answer(204);
    }
    const route = (req.url ?? '').split('?')[0].replace(/\/+$/, '');
    const operation = route.endsWith('/decode') ? 'decode' : route.endsWith('/encode') ? 'encode' : undefined;
    if (req.method !== 'POST' || !operation) return answer(404, { message: 'POST /decode or /encode' });
    if (options.authorization && req.headers.authorization !== options.authorization) {
      return answer(401, {
        message: 'this codec server needs the Authorization header it was started with (DMS_CODEC_AUTH)',
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        answer(413, { message: `a request above ${MAX_BODY_BYTES} bytes` });
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let payloads: temporal.api.common.v1.IPayload[];
      try {
        payloads = Payloads.fromObject(JSON.parse(Buffer.concat(chunks).toString('utf8'))).payloads;
      } catch (err) {
        return answer(400, { message: `not a JSON list of payloads: ${(err as Error).message}` });
      }
      const done = operation === 'decode' ? codec.decode(payloads as never) : codec.encode(payloads as never);
      done.then(
        (out) => answer(200, Payloads.toObject(Payloads.create({ payloads: out }), { bytes: String })),
        // The codec's messages name key ids only, never a key or a payload's content.
        (err: Error) => answer(400, { message: err.message }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `dms codec-server`: serves until SIGINT or SIGTERM. */
export async function codecServerCommand(opts: { listen: string; origin: string[] }): Promise<void> {
  const at = opts.listen.lastIndexOf(':');
  const port = Number(opts.listen.slice(at + 1));
  if (at < 1 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new CommandError(`--listen takes host:port, e.g. 127.0.0.1:8081, not '${opts.listen}'`);
  const authorization = process.env.DMS_CODEC_AUTH || undefined;
  const server = await startCodecServer({
    host: opts.listen.slice(0, at).replace(/^\[|\]$/g, ''),
    port,
    origins: opts.origin,
    authorization,
  });
  console.log(
    `dms codec-server: ${server.url} for the Web UI at ${opts.origin.join(', ')}${authorization ? '; calls must carry DMS_CODEC_AUTH as their Authorization header' : '; no Authorization asked (set DMS_CODEC_AUTH to ask for one)'}`,
  );
  console.log(
    `dms codec-server: in the Web UI, set the codec endpoint to ${server.url}; on the Temporal CLI, add --codec-endpoint ${server.url}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}
