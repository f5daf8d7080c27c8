// Payload encryption, optional: with DMS_PAYLOAD_KEYS set (`id1:<base64 of 32 bytes>,id0:…`),
// every payload the worker and the `dms` commands write to Temporal (inputs, results,
// heartbeat details, query answers, signals, summaries and details, failure messages) is
// sealed with AES-256-GCM under the first key; any key listed opens one, so keys rotate by
// putting the new key first and keeping the old ones while old histories still matter.
// Without the variable, nothing changes: no codec, and the SDK's own failure converter.
//
// A sealed payload keeps Temporal's usual shape: metadata `encoding: binary/encrypted` and
// `encryption-key-id`, data = 12-byte nonce ‖ ciphertext ‖ 16-byte tag of the whole original
// payload (its metadata too, so `json/plain` says nothing either). A payload that is not
// sealed (a `temporal workflow signal --input …` typed by an operator) is read as it is.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EnvError } from './errors';
import { ENCODED_FAILURES_MARK } from './encoded-failures';

const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';
export const PAYLOAD_KEYS_VARIABLE = 'DMS_PAYLOAD_KEYS';
/** The failure converter that moves messages and stack traces into a payload, where the codec seals them. */
export const ENCODED_FAILURES = path.join(__dirname, 'encoded-failures');
export { ENCODED_FAILURES_MARK };

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const text = new TextEncoder();
const untext = new TextDecoder();

export interface PayloadKey {
  id: string;
  key: Buffer;
}

const FIX = `set ${PAYLOAD_KEYS_VARIABLE} to id:key pairs separated by commas, the encrypting key first, each key 32 random bytes in base64 (make one with \`openssl rand -base64 32\`)`;

/** The keys of DMS_PAYLOAD_KEYS, in order; the message names what is wrong (never a key). */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const keys: PayloadKey[] = [];
  const entries = value.split(',').map((e) => e.trim());
  for (const [i, entry] of entries.entries()) {
    const at = entry.indexOf(':');
    const id = at > 0 ? entry.slice(0, at) : '';
    const where = `${PAYLOAD_KEYS_VARIABLE} entry ${i + 1}${id ? ` (${id})` : ''}`;
    if (!id || !/^[A-Za-z0-9._-]+$/.test(id))
      throw new EnvError(
        `${where} has no key id before its ':' (ids are letters, digits, '.', '_' or '-'). Fix: ${FIX}`,
      );
    const encoded = entry.slice(at + 1);
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) throw new EnvError(`${where} is not 32 bytes in base64 (AES-256 needs 32). Fix: ${FIX}`);
    if (keys.some((k) => k.id === id))
      throw new EnvError(`${where} repeats the key id ${id}. Fix: give every key its own id`);
    keys.push({ id, key });
  }
  return keys;
}

/** The keys in env, or undefined when payloads are not encrypted. */
export function payloadKeysFrom(env: NodeJS.ProcessEnv = process.env): PayloadKey[] | undefined {
  const value = env[PAYLOAD_KEYS_VARIABLE];
  if (value === undefined || value.trim() === '') return undefined;
  return parsePayloadKeys(value);
}

/** AES-256-GCM over whole payloads: seals with the first key, opens with any. */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: PayloadKey[]) {
    if (keys.length === 0) throw new EnvError(`${PAYLOAD_KEYS_VARIABLE} lists no key. Fix: ${FIX}`);
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.keys[0];
    return payloads.map((payload) => {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(text.encode(id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: text.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text.encode(id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || untext.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? untext.decode(idBytes) : '';
      const key = this.byId.get(id);
      if (!key) {
        throw new Error(
          `A payload is encrypted with key ${id || '(no id)'}, which ${PAYLOAD_KEYS_VARIABLE} does not list. Fix: add that key back to ${PAYLOAD_KEYS_VARIABLE} after the current one (old keys stay listed while their histories are read)`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < NONCE_BYTES + TAG_BYTES)
        throw new Error(`A payload encrypted with key ${id} is too short to be one of dms-etl's`);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
      decipher.setAAD(text.encode(id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new Error(
          `A payload encrypted with key ${id} does not open with the key of that id in ${PAYLOAD_KEYS_VARIABLE}: the key was changed, or the payload altered. Fix: list the key it was sealed with`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * The data converter of the worker and every client: undefined (the SDK's defaults) without
 * DMS_PAYLOAD_KEYS; else the codec, and failures whose messages travel as sealed payloads.
 */
export function dataConverterFrom(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = payloadKeysFrom(env);
  if (!keys) return undefined;
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath: ENCODED_FAILURES };
}

/**
 * A prebuilt workflow bundle fixes how the workflows write failures; it must agree with
 * DMS_PAYLOAD_KEYS, or failure messages would go to Temporal in plain text (or encoded with
 * no codec to read them back in the ways operators expect).
 */
export function checkBundle(code: string, encrypted: boolean, bundlePath: string): void {
  const built = code.includes(ENCODED_FAILURES_MARK);
  if (built === encrypted) return;
  throw new EnvError(
    encrypted
      ? `DMS_WORKFLOW_BUNDLE (${bundlePath}) was built without ${PAYLOAD_KEYS_VARIABLE}, so its workflows would write failure messages in plain text. Fix: rebuild it with \`npm run bundle\` in an environment where ${PAYLOAD_KEYS_VARIABLE} is set, or unset DMS_WORKFLOW_BUNDLE`
      : `DMS_WORKFLOW_BUNDLE (${bundlePath}) was built for encrypted payloads, but ${PAYLOAD_KEYS_VARIABLE} is not set. Fix: set ${PAYLOAD_KEYS_VARIABLE}, or rebuild the bundle with \`npm run bundle\` without it`,
  );
}
