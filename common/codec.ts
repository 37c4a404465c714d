// Payload encryption: an AES-256-GCM PayloadCodec for everything cutover sends through Temporal
// (plans as workflow input, approval comments in signals and updates, activity results, query
// answers, the UI's summary and details, failure messages). Temporal's history then holds only
// ciphertext; the worker, the CLI and `cutover codec-server` (for the Web UI and the official CLI)
// decrypt with the keys in CUTOVER_CODEC_KEYS.
//
// Keys: `id:base64key,id2:base64key2` (32 random bytes each: `openssl rand -base64 32`). The first
// encrypts, every one decrypts — rotation is "put the new key first, drop the old one once no open
// run or retained history still needs it". A payload names its key id (never the key) in metadata.
// Payloads without this codec's encoding pass through decode unchanged, so a run started with plain
// JSON (the official CLI, the UI's Start form) still runs.
//
// Runs outside the workflow sandbox (client side, and in the worker around each activation): node:crypto
// is fine here; only the failure converter module (./encrypted-failures) goes into the workflow bundle.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { Field, MapField, Root, Type } from 'protobufjs';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM';
export const CODEC_KEYS_ENV = 'CUTOVER_CODEC_KEYS';

const KEY_BYTES = 32;
const IV_BYTES = 12; // GCM's standard nonce; random per payload (2^-32 collision bound far beyond our volumes)
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The whole inner payload (metadata included) is what gets encrypted: the wire form of temporal.api.common.v1.Payload. */
const PayloadMessage = new Type('Payload').add(new MapField('metadata', 1, 'string', 'bytes')).add(new Field('data', 2, 'bytes'));
new Root().add(PayloadMessage);

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** A bad CUTOVER_CODEC_KEYS (names the entry at fault, never a key) or a payload that cannot be decrypted. */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

/** Parse `id:base64key,…`; empty or unset means "no encryption". Throws CodecError naming the entry at fault. */
export function parseCodecKeys(spec: string | undefined): CodecKey[] {
  if (spec === undefined || spec.trim() === '') return [];
  const keys: CodecKey[] = [];
  spec.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    const where = `${CODEC_KEYS_ENV} entry ${i + 1}`;
    if (!entry) throw new CodecError(`${where} is empty (expected id:base64key, entries separated by commas)`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new CodecError(`${where} has no "id:" prefix (expected id:base64key)`);
    const id = entry.slice(0, colon).trim();
    const b64 = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id))
      throw new CodecError(
        `${where}: key id ${JSON.stringify(id.slice(0, 80))} must be 1-64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)`,
      );
    const named = `${where} (key id "${id}")`;
    if (keys.some((k) => k.id === id)) throw new CodecError(`${named}: the key id is used twice`);
    if (!BASE64.test(b64) || b64.length % 4 === 1)
      throw new CodecError(`${named}: the key is not base64 (make one with: openssl rand -base64 32)`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== KEY_BYTES)
      throw new CodecError(`${named}: the key is ${key.length} bytes, AES-256 needs ${KEY_BYTES} (make one with: openssl rand -base64 32)`);
    keys.push({ id, key });
  });
  return keys;
}

const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/**
 * With no keys it encodes nothing and decodes plain payloads, but refuses encrypted ones with a clear
 * error (rather than the SDK's "unknown encoding") so a worker or CLI missing the keys says so.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  readonly encryptKeyId: string | undefined;

  constructor(readonly keys: CodecKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.encryptKeyId = keys[0]?.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.encryptKeyId;
    if (id === undefined) return payloads;
    const key = this.byId.get(id) as Buffer;
    return payloads.map((payload) => {
      const plain = PayloadMessage.encode({ metadata: payload.metadata ?? {}, data: payload.data ?? new Uint8Array() }).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated too: relabelling a payload with another id makes it fail, not decrypt wrongly.
      cipher.setAAD(Buffer.from(id, 'utf8'));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(id),
          [CIPHER_METADATA]: Buffer.from(CIPHER),
        },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  private decrypt(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!id)
      throw new CodecError(`cannot decrypt a payload: it is ${ENCRYPTED_ENCODING} but names no key id (metadata ${KEY_ID_METADATA})`);
    const key = this.byId.get(id);
    if (!key) {
      const have = this.keys.length ? `it has key id(s) ${this.keys.map((k) => `"${k.id}"`).join(', ')}` : 'it is not set in this process';
      throw new CodecError(`cannot decrypt a payload encrypted with key id "${id}": ${CODEC_KEYS_ENV} has no such key (${have})`);
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new CodecError(`cannot decrypt a payload encrypted with key id "${id}": it is truncated (${data.length} bytes)`);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CodecError(
        `cannot decrypt a payload encrypted with key id "${id}": the key ${CODEC_KEYS_ENV} gives for "${id}" is not the one it was encrypted with (or the payload was altered)`,
      );
    }
    const inner = PayloadMessage.decode(plain) as unknown as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
    return { metadata: inner.metadata ?? {}, data: inner.data ?? new Uint8Array() };
  }
}
