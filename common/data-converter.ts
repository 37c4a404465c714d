// The one place that turns the environment into Temporal's data converter, for every client and
// worker cutover builds (CLI, worker, codec server, tests, bench): with CUTOVER_CODEC_KEYS set,
// payloads and failure messages are encrypted (./codec.ts); without, they stay plain JSON as before.
import type { DataConverter } from '@temporalio/common';
import { CODEC_KEYS_ENV, EncryptionCodec, parseCodecKeys } from './codec';
// Loaded by path below (Temporal requires it, and bundles it into the workflow); imported here too
// because tsc only emits what is imported: without this, dist/ would lack it.
import './encrypted-failures';

type Env = Record<string, string | undefined>;

/** Throws CodecError naming the entry at fault when CUTOVER_CODEC_KEYS is malformed. */
export function codecFromEnv(env: Env = process.env): EncryptionCodec {
  return new EncryptionCodec(parseCodecKeys(env[CODEC_KEYS_ENV]));
}

export function dataConverterFor(codec: EncryptionCodec): DataConverter {
  return {
    // Always installed: without keys it passes plain payloads and names the problem on encrypted ones.
    payloadCodecs: [codec],
    ...(codec.encryptKeyId !== undefined ? { failureConverterPath: require.resolve('./encrypted-failures') } : {}),
  };
}

export const dataConverterFromEnv = (env: Env = process.env): DataConverter => dataConverterFor(codecFromEnv(env));

/** One line for logs: which key encrypts and which decrypt (ids only). */
export function describeCodec(codec: EncryptionCodec): string {
  if (codec.encryptKeyId === undefined) return `payloads not encrypted (${CODEC_KEYS_ENV} not set)`;
  return `payloads encrypted (AES-256-GCM) with key id "${codec.encryptKeyId}"; decrypting key ids: ${codec.keys.map((k) => k.id).join(', ')}`;
}
