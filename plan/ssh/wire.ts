/**
 * The SSH wire format (RFC 4251 §5) as far as signed approvals need it: base64, length-prefixed
 * strings, and `ssh-ed25519` public keys as written in authorized_keys / *.pub lines, with their
 * fingerprints as `ssh-keygen -l` prints them. Pure (Uint8Array only): the plan schema validates
 * keys with it offline and the workflow sandbox verifies signatures with it. Format code only: the
 * hash comes from @noble/hashes. Imports nothing else of this project.
 */
import { sha256 } from '@noble/hashes/sha2';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Record<string, number> = Object.fromEntries([...B64].map((c, i) => [c, i]));

/** Strict base64 (standard alphabet, padding optional) → bytes, or null when it is not base64. */
export function base64Decode(text: string): Uint8Array | null {
  const s = text.replace(/=+$/, '');
  if (s.length % 4 === 1 || text.length - s.length > 2) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0,
    bits = 0,
    n = 0;
  for (const c of s) {
    const v = B64_INDEX[c];
    if (v === undefined) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Bytes → base64, without padding when `pad` is false (as ssh-keygen prints fingerprints). */
export function base64Encode(bytes: Uint8Array, pad = true): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < 4; j++) out += j < chars ? B64[(n >> (18 - 6 * j)) & 63] : pad ? '=' : '';
  }
  return out;
}

/** Reads RFC 4251 values in order; every read throws WireError when the data runs short. */
export class WireReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at === this.bytes.length;
  }

  raw(n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) throw new WireError(`${what}: truncated`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  uint32(what: string): number {
    const b = this.raw(4, what);
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  /** `string`: uint32 length, then that many bytes. */
  string(what: string): Uint8Array {
    return this.raw(this.uint32(what), what);
  }

  /** A `string` that must be printable ASCII (names, namespaces). */
  text(what: string): string {
    const b = this.string(what);
    if (b.length > 256) throw new WireError(`${what}: longer than 256 bytes`);
    if (b.some((c) => c < 0x20 || c > 0x7e)) throw new WireError(`${what}: not printable ASCII`);
    return String.fromCharCode(...b);
  }
}

export class WireError extends Error {}

/** RFC 4251 `string` encoding of bytes or of an ASCII/UTF-8 text. */
export function sshString(value: Uint8Array | string): Uint8Array {
  const bytes = typeof value === 'string' ? utf8ToBytes(value) : value;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(...parts);

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export const ED25519 = 'ssh-ed25519';

export interface Ed25519PublicKey {
  /** The wire blob: string "ssh-ed25519" ‖ string(32-byte key) — what fingerprints hash. */
  blob: Uint8Array;
  /** The 32-byte Ed25519 public key. */
  key: Uint8Array;
  /** SHA256:<base64 of sha256(blob), unpadded>, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/** A public key blob (wire format) → the key, or a reason it is not an ssh-ed25519 key. */
export function parseKeyBlob(blob: Uint8Array): Ed25519PublicKey | string {
  try {
    const r = new WireReader(blob);
    const type = r.text('key type');
    if (type !== ED25519) return `key type ${type} is not supported (only ${ED25519})`;
    const key = r.string('ed25519 key');
    if (key.length !== 32) return `an ${ED25519} key is 32 bytes, this one is ${key.length}`;
    if (!r.done) return 'trailing bytes after the key';
    return { blob, key: key.slice(), fingerprint: fingerprint(blob) };
  } catch (e) {
    return e instanceof WireError ? `not an SSH public key (${e.message})` : String(e);
  }
}

/** `ssh-ed25519 AAAA… [comment]` (an authorized_keys / *.pub line) → the key, or what is wrong with it. */
export function parsePublicKeyLine(line: string): Ed25519PublicKey | string {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || parts[0] === '') return `must be an SSH public key line "${ED25519} AAAA… [comment]"`;
  if (parts[0] !== ED25519) return `key type ${parts[0]} is not supported (only ${ED25519})`;
  const blob = base64Decode(parts[1]);
  if (!blob) return 'the key is not valid base64';
  return parseKeyBlob(blob);
}

export function fingerprint(blob: Uint8Array): string {
  return `SHA256:${base64Encode(sha256(blob), false)}`;
}
