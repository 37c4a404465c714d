// The stored evidence pack, encrypted when payloads are (CUTOVER_CODEC_KEYS): the pack names keys,
// tables and people's decisions, and a run's evidence must not be readable where Temporal's history
// is not. With keys set, the file in the backup store and the row in cutover.evidence hold a sealed
// envelope instead of the pack — one JSON object:
//
//   {"format": "cutover-evidence-sealed:v1", "cipher": "AES-256-GCM", "keyId": "<id>",
//    "metadata": {"<name>": "<base64>", …}, "data": "<base64>"}
//
// `metadata` and `data` are the Temporal Payload the codec (./codec.ts) makes of the pack's exact
// JSON text (a json/plain payload): data is 12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag,
// the key id authenticated as AAD — the same keys and format as every payload in the history. The
// sha256 recorded for the pack is that of the bytes written (the envelope). `cutover report --file`
// opens either form with the keys of CUTOVER_CODEC_KEYS.
import type { Payload } from '@temporalio/common';
import { CIPHER, CodecError, type EncryptionCodec, KEY_ID_METADATA } from './codec';

export const SEALED_FORMAT = 'cutover-evidence-sealed:v1';

export interface SealedEvidence {
  format: typeof SEALED_FORMAT;
  cipher: string;
  keyId: string;
  metadata: Record<string, string>;
  data: string;
}

const b64 = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('base64');

/** The text to store: the pack itself without keys, the sealed envelope (one line, then a newline) with. */
export async function sealEvidence(text: string, codec: EncryptionCodec): Promise<string> {
  if (codec.encryptKeyId === undefined) return text;
  const [p] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text, 'utf8') }]);
  const sealed: SealedEvidence = {
    format: SEALED_FORMAT,
    cipher: CIPHER,
    keyId: codec.encryptKeyId,
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(p.data),
  };
  return `${JSON.stringify(sealed)}\n`;
}

export function isSealed(v: unknown): v is SealedEvidence {
  return !!v && typeof v === 'object' && (v as SealedEvidence).format === SEALED_FORMAT;
}

/** The pack's text from what was stored: a sealed envelope is decrypted (CodecError without the key), plain text returned as is. */
export async function openEvidence(stored: string, codec: EncryptionCodec): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return stored;
  }
  if (!isSealed(parsed)) return stored;
  const payload: Payload = {
    metadata: Object.fromEntries(Object.entries(parsed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64')])),
    data: Buffer.from(parsed.data ?? '', 'base64'),
  };
  if (!payload.metadata?.[KEY_ID_METADATA]) throw new CodecError(`sealed evidence names no key id (metadata ${KEY_ID_METADATA})`);
  const [plain] = await codec.decode([payload]);
  if (Buffer.from(plain.metadata?.encoding ?? new Uint8Array()).toString() === 'binary/encrypted') {
    throw new CodecError(`sealed evidence is encrypted with key id "${parsed.keyId}": set CUTOVER_CODEC_KEYS to a list holding that key`);
  }
  return Buffer.from(plain.data ?? new Uint8Array()).toString('utf8');
}
