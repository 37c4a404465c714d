/**
 * Ed25519 signature verification (RFC 8032 §5.1.7) in plain JS — Uint8Array and BigInt only — so
 * the workflow can verify signed approvals deterministically in its sandbox (no node:crypto, no
 * Buffer there). Verify only: nothing here handles secrets, so constant time does not matter.
 *
 * Points are in extended homogeneous coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, x·y = T/Z (RFC 8032
 * §5.1.4): additions and doublings need no field inversion. One verification is one combined
 * double-and-add over 253 bits ([S]B − [k]A at once, "Shamir's trick") plus two point decodings;
 * a few milliseconds with BigInt.
 */
import { sha512 } from './sha512';

const P = 2n ** 255n - 19n; // the field prime
const L = 2n ** 252n + 27742317777372353535851937790883648493n; // the order of the base point
const mod = (a: bigint, m = P): bigint => {
  const r = a % m;
  return r >= 0n ? r : r + m;
};

/** a^e mod P, square-and-multiply. */
function pow(a: bigint, e: bigint): bigint {
  let r = 1n;
  let b = mod(a);
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n); // Fermat

const D = mod(-121665n * inv(121666n)); // the curve constant d of −x² + y² = 1 + d·x²·y²
const D2 = (2n * D) % P;
const SQRT_M1 = pow(2n, (P - 1n) / 4n); // a square root of −1

interface Point {
  X: bigint;
  Y: bigint;
  Z: bigint;
  T: bigint;
}
const IDENTITY: Point = { X: 0n, Y: 1n, Z: 1n, T: 0n };

/** RFC 8032 §5.1.4 addition (complete: also doubles, and adds the identity). */
function add(p: Point, q: Point): Point {
  const a = mod((p.Y - p.X) * (q.Y - q.X));
  const b = ((p.Y + p.X) * (q.Y + q.X)) % P;
  const c = (((p.T * D2) % P) * q.T) % P;
  const d = (2n * p.Z * q.Z) % P;
  const e = mod(b - a), f = mod(d - c), g = (d + c) % P, h = (b + a) % P;
  return { X: (e * f) % P, Y: (g * h) % P, T: (e * h) % P, Z: (f * g) % P };
}

/** RFC 8032 §5.1.4 doubling (cheaper than add(p, p)). */
function double(p: Point): Point {
  const a = (p.X * p.X) % P;
  const b = (p.Y * p.Y) % P;
  const c = (2n * p.Z * p.Z) % P;
  const h = (a + b) % P;
  const xy = p.X + p.Y;
  const e = mod(h - xy * xy);
  const g = mod(a - b);
  const f = (c + g) % P;
  return { X: (e * f) % P, Y: (g * h) % P, T: (e * h) % P, Z: (f * g) % P };
}

const negate = (p: Point): Point => ({ X: mod(-p.X), Y: p.Y, Z: p.Z, T: mod(-p.T) });
const isIdentity = (p: Point): boolean => p.X % P === 0n && mod(p.Y - p.Z) === 0n;

/** Little-endian bytes → integer. */
function leInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** RFC 8032 §5.1.3: a 32-byte encoding → a point, or null when it is not one. */
function decodePoint(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  const copy = bytes.slice();
  const sign = copy[31] >> 7; // the low bit of x
  copy[31] &= 0x7f;
  const y = leInt(copy);
  if (y >= P) return null;
  // x² = (y² − 1) / (d·y² + 1) = u / v; candidate root x = u·v³·(u·v⁷)^((p−5)/8).
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = (D * y2 + 1n) % P;
  const v3 = (v * v * v) % P;
  let x = (((u * v3) % P) * pow((u * ((v3 * v3 * v) % P)) % P, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 === u) {
    // x is a root
  } else if (vx2 === mod(-u)) {
    x = (x * SQRT_M1) % P;
  } else {
    return null; // no square root: not on the curve
  }
  if (x === 0n && sign === 1) return null;
  if (Number(x & 1n) !== sign) x = P - x;
  return { X: x, Y: y, Z: 1n, T: (x * y) % P };
}

// The base point B: y = 4/5, x even (RFC 8032 §5.1).
const B = (() => {
  const y = (4n * inv(5n)) % P;
  const enc = new Uint8Array(32);
  for (let i = 0, n = y; i < 32; i++, n >>= 8n) enc[i] = Number(n & 0xffn);
  return decodePoint(enc)!;
})();

/**
 * Whether `signature` (64 bytes: R ‖ S) is a valid Ed25519 signature of `message` by `publicKey`
 * (32 bytes). RFC 8032 §5.1.7: S < L, A and R decode, k = SHA-512(R ‖ A ‖ M) mod L, and
 * [8][S]B = [8]R + [8][k]A (the cofactored equation; checked as [8]([S]B − [k]A − R) = identity).
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const s = leInt(signature.subarray(32));
  if (s >= L) return false; // malleability guard required by the RFC
  const a = decodePoint(publicKey);
  const r = decodePoint(signature.subarray(0, 32));
  if (!a || !r) return false;
  const h = new Uint8Array(64 + message.length);
  h.set(signature.subarray(0, 32), 0);
  h.set(publicKey, 32);
  h.set(message, 64);
  const k = mod(leInt(sha512(h)), L);

  // [S]B + [k](−A), both scalars < 2^253, in one pass over their bits.
  const negA = negate(a);
  const both = add(B, negA);
  let q = IDENTITY;
  for (let i = 252n; i >= 0n; i--) {
    q = double(q);
    const sb = (s >> i) & 1n, kb = (k >> i) & 1n;
    if (sb && kb) q = add(q, both);
    else if (sb) q = add(q, B);
    else if (kb) q = add(q, negA);
  }
  q = add(q, negate(r));
  return isIdentity(double(double(double(q))));
}
