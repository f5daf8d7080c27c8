// The payload codec (DMS_PAYLOAD_KEYS) and its HTTP form, `dms codec-server`.
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCodecServer, type CodecServer } from '../../client/codec-server';
import { failureConverter } from '../../common/encoded-failures';
import {
  AesGcmCodec,
  checkBundle,
  dataConverterFrom,
  ENCODED_FAILURES_MARK,
  parsePayloadKeys,
} from '../../common/payload-codec';

const k0 = randomBytes(32).toString('base64');
const k1 = randomBytes(32).toString('base64');
const secret = { mapref: 'SALES', after: 'ckpt-004711' };
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1') + JSON.stringify(p.metadata ?? {});

describe('DMS_PAYLOAD_KEYS', () => {
  it('reads id:key pairs in order, the first one encrypting', () => {
    expect(parsePayloadKeys(`new:${k1}, old:${k0}`).map((k) => k.id)).toEqual(['new', 'old']);
    expect(dataConverterFrom({})).toBeUndefined();
    expect(dataConverterFrom({ DMS_PAYLOAD_KEYS: '' })).toBeUndefined();
    expect(dataConverterFrom({ DMS_PAYLOAD_KEYS: `k:${k0}` })?.payloadCodecs).toHaveLength(1);
  });

  it.each([
    [`${k0}`, /entry 1 has no key id/],
    [`k:${k0.slice(0, 20)}`, /entry 1 \(k\) is not 32 bytes/],
    [`k:not base64!`, /entry 1 \(k\) is not 32 bytes/],
    [`a:${k0},a:${k1}`, /entry 2 \(a\) repeats the key id a/],
  ])('refuses %s with a message that names the entry and never the key', (value, message) => {
    expect(() => parsePayloadKeys(value)).toThrow(message);
    try {
      parsePayloadKeys(value);
    } catch (err) {
      expect((err as Error).message).not.toContain(k0.slice(0, 16));
      expect((err as Error).message).toMatch(/Fix: /);
    }
  });
});

describe('AES-256-GCM payload codec', () => {
  const original = defaultPayloadConverter.toPayload(secret);

  it('seals a payload whole (metadata too) and opens it again', async () => {
    const codec = new AesGcmCodec(parsePayloadKeys(`k0:${k0}`));
    const [sealed] = await codec.encode([original]);
    expect(text(sealed)).not.toContain('ckpt-004711');
    expect(text(sealed)).not.toContain('json/plain');
    expect(Buffer.from(sealed.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.metadata!['encryption-key-id']!).toString()).toBe('k0');
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(secret);
    // Two seals of one payload differ (a fresh nonce each time).
    expect(Buffer.from((await codec.encode([original]))[0].data!)).not.toEqual(Buffer.from(sealed.data!));
  });

  it('opens an old key’s payloads after a rotation, and says which key is missing when it was dropped', async () => {
    const [sealed] = await new AesGcmCodec(parsePayloadKeys(`k0:${k0}`)).encode([original]);
    const rotated = new AesGcmCodec(parsePayloadKeys(`k1:${k1},k0:${k0}`));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed]))[0])).toEqual(secret);
    expect(Buffer.from((await rotated.encode([original]))[0].metadata!['encryption-key-id']!).toString()).toBe('k1');
    await expect(new AesGcmCodec(parsePayloadKeys(`k1:${k1}`)).decode([sealed])).rejects.toThrow(
      /encrypted with key k0, which DMS_PAYLOAD_KEYS does not list/,
    );
    // The same id with another key: refused, never garbage.
    await expect(new AesGcmCodec(parsePayloadKeys(`k0:${k1}`)).decode([sealed])).rejects.toThrow(
      /does not open with the key of that id/,
    );
  });

  it('refuses an altered payload', async () => {
    const codec = new AesGcmCodec(parsePayloadKeys(`k0:${k0}`));
    const [sealed] = await codec.encode([original]);
    const data = Buffer.from(sealed.data!);
    data[20] ^= 1;
    await expect(codec.decode([{ ...sealed, data }])).rejects.toThrow(/does not open/);
  });

  it('reads a payload that is not sealed as it is (an operator’s `temporal workflow signal --input`)', async () => {
    const codec = new AesGcmCodec(parsePayloadKeys(`k0:${k0}`));
    expect(await codec.decode([original])).toEqual([original]);
  });
});

describe('failure messages with encrypted payloads', () => {
  it('travel in the encoded attributes (a payload the codec seals), and read back whole', () => {
    const failure = failureConverter.errorToFailure(
      ApplicationFailure.nonRetryable('NULL key after ckpt-004711'),
      defaultPayloadConverter,
    );
    expect(failure.message).not.toContain('ckpt-004711');
    expect(failure.encodedAttributes).toBeTruthy();
    expect(failureConverter.failureToError(failure, defaultPayloadConverter).message).toBe(
      'NULL key after ckpt-004711',
    );
  });

  it('a prebuilt workflow bundle must agree with DMS_PAYLOAD_KEYS', () => {
    const built = `… ${ENCODED_FAILURES_MARK} …`;
    expect(() => checkBundle(built, true, 'b.js')).not.toThrow();
    expect(() => checkBundle('plain', false, 'b.js')).not.toThrow();
    expect(() => checkBundle('plain', true, 'b.js')).toThrow(
      /was built without DMS_PAYLOAD_KEYS.*Fix: rebuild it with `npm run bundle`/,
    );
    expect(() => checkBundle(built, false, 'b.js')).toThrow(
      /built for encrypted payloads, but DMS_PAYLOAD_KEYS is not set/,
    );
  });
});

describe('dms codec-server', () => {
  let server: CodecServer;
  const origin = 'http://localhost:8233';
  const auth = `Bearer ${randomBytes(8).toString('hex')}`;
  const post = (route: string, body: unknown, headers: Record<string, string> = { Authorization: auth }) =>
    fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin, 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });
  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  beforeAll(async () => {
    server = await startCodecServer(
      { host: '127.0.0.1', port: 0, origins: [origin], authorization: auth },
      { DMS_PAYLOAD_KEYS: `k1:${k1},k0:${k0}` },
    );
  });
  afterAll(() => server?.close());

  it('decodes what the workers sealed, under an old key too, for the Web UI’s origin', async () => {
    const [sealed] = await new AesGcmCodec(parsePayloadKeys(`k0:${k0}`)).encode([
      defaultPayloadConverter.toPayload(secret),
    ]);
    const res = await post('/decode', { payloads: [asJson(sealed)] });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payloads[0].data, 'base64').toString())).toEqual(secret);
  });

  it('encodes with the first key', async () => {
    const res = await post('/encode', { payloads: [asJson(defaultPayloadConverter.toPayload(secret))] });
    const { payloads } = (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString()).toBe('k1');
    expect(Buffer.from(payloads[0].data, 'base64').toString('latin1')).not.toContain('ckpt-004711');
  });

  it('asks every call for the Authorization header it was started with; answers preflights for its origins only', async () => {
    expect((await post('/decode', { payloads: [] }, {})).status).toBe(401);
    expect((await post('/decode', { payloads: [] }, { Authorization: 'Bearer wrong' })).status).toBe(401);
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const stranger = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://elsewhere.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post('/decode', 'not payloads')).status).toBe(400);
  });
});
