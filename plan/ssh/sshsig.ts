/**
 * SSH signatures as `ssh-keygen -Y sign` writes them (OpenSSH PROTOCOL.sshsig, what git uses for
 * SSH-signed commits): an armored blob holding the signer's public key, a namespace, the hash
 * algorithm and an Ed25519 signature over
 *   "SSHSIG" ‖ string(namespace) ‖ string(reserved) ‖ string(hash_algorithm) ‖ string(H(message)).
 * Parsing is the format (PROTOCOL.sshsig), kept here; hashing and Ed25519 come from @noble/hashes
 * and @noble/curves (audited, pure JS), so the workflow verifies signed decisions deterministically
 * in its sandbox (no node:crypto there).
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { utf8ToBytes } from '@noble/hashes/utils';
import { base64Decode, concat, ED25519, parseKeyBlob, sshString, WireError, WireReader, type Ed25519PublicKey } from './wire';

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
const MAGIC = utf8ToBytes('SSHSIG');
/** An armored Ed25519 signature is about 300 characters; anything far larger is not one. */
const MAX_ARMORED = 8192;

export const HASH_ALGORITHMS = ['sha512', 'sha256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export interface SshSignature {
  publicKey: Ed25519PublicKey;
  namespace: string;
  reserved: Uint8Array;
  hashAlgorithm: HashAlgorithm;
  /** The raw 64-byte Ed25519 signature (R ‖ S). */
  signature: Uint8Array;
}

/** An armored SSH signature → its parts, or a reason it is not a usable one. */
export function parseSshSignature(armored: string): SshSignature | string {
  if (typeof armored !== 'string') return 'must be an armored SSH signature (text)';
  if (armored.length > MAX_ARMORED) return `is ${armored.length} characters: not an SSH signature (at most ${MAX_ARMORED})`;
  const text = armored.trim();
  if (!text.startsWith(BEGIN) || !text.endsWith(END))
    return `must be an armored SSH signature (${BEGIN} … ${END}), as ssh-keygen -Y sign writes it`;
  const bytes = base64Decode(text.slice(BEGIN.length, text.length - END.length).replace(/\s+/g, ''));
  if (!bytes) return 'the armored body is not valid base64';
  try {
    const r = new WireReader(bytes);
    const magic = r.raw(6, 'magic');
    if (!magic.every((b, i) => b === MAGIC[i])) return 'not an SSHSIG signature (magic "SSHSIG" missing)';
    const version = r.uint32('version');
    if (version !== 1) return `SSHSIG version ${version} is not supported (only 1)`;
    const publicKey = parseKeyBlob(r.string('public key').slice());
    if (typeof publicKey === 'string') return `signing key: ${publicKey}`;
    const namespace = r.text('namespace');
    const reserved = r.string('reserved').slice();
    const hashAlgorithm = r.text('hash algorithm');
    if (!(HASH_ALGORITHMS as readonly string[]).includes(hashAlgorithm))
      return `hash algorithm ${hashAlgorithm} is not supported (sha512 or sha256)`;
    const inner = new WireReader(r.string('signature'));
    if (!r.done) return 'trailing bytes after the signature';
    const sigType = inner.text('signature type');
    if (sigType !== ED25519) return `signature type ${sigType} is not supported (only ${ED25519})`;
    const signature = inner.string('ed25519 signature').slice();
    if (signature.length !== 64 || !inner.done) return `an ${ED25519} signature is 64 bytes, this one is ${signature.length}`;
    return { publicKey, namespace, reserved, hashAlgorithm: hashAlgorithm as HashAlgorithm, signature };
  } catch (e) {
    if (e instanceof WireError) return `malformed SSH signature (${e.message})`;
    throw e;
  }
}

/** What the signer's key actually signed for `message` (PROTOCOL.sshsig "Signed Data"). */
export function signedData(sig: Pick<SshSignature, 'namespace' | 'reserved' | 'hashAlgorithm'>, message: Uint8Array): Uint8Array {
  const digest = sig.hashAlgorithm === 'sha512' ? sha512(message) : sha256(message);
  return concat(MAGIC, sshString(sig.namespace), sshString(sig.reserved), sshString(sig.hashAlgorithm), sshString(digest));
}

/** Whether the signature's own key signed exactly `message` under the signature's namespace. */
export function signatureVerifies(sig: SshSignature, message: Uint8Array | string): boolean {
  const bytes = typeof message === 'string' ? utf8ToBytes(message) : message;
  return ed25519Verify(sig.publicKey.key, signedData(sig, bytes), sig.signature);
}

/**
 * Ed25519 verification as RFC 8032 §5.1.7 states it (zip215: false — canonical encodings, S < L, no
 * small-order keys), so a signature has one valid form (the run's replay guard keeps its digest).
 * Garbage (wrong lengths) is `false`, never thrown.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
