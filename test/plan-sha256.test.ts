import { createHash } from 'node:crypto';
import { sha256Bytes, sha256Hex, utf8Bytes } from '../plan/sha256';

const nodeSha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Deterministic PRNG so a failure reproduces. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ASCII, Latin-1, BMP (CJK, symbols), astral (emoji), and lone surrogates.
const ALPHABET = ['a', 'Z', '0', ' ', '\n', '"', '\\', '\u0000', 'é', 'ß', '€', '中', '文', '\u2028', '😀', '𝄞', '\ud800', '\udfff'];

function randomString(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    s += rand() < 0.5 ? String.fromCharCode(32 + Math.floor(rand() * 95)) : ALPHABET[Math.floor(rand() * ALPHABET.length)];
  }
  return s;
}

describe('sha256 (@noble/hashes, as the plan hash uses it)', () => {
  test('known vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  test('matches node:crypto on every length 0..200 around block boundaries', () => {
    const rand = mulberry32(1);
    for (let len = 0; len <= 200; len++) {
      const ascii = 'x'.repeat(len);
      expect(sha256Hex(ascii)).toBe(nodeSha(ascii));
      const mixed = randomString(rand, len);
      expect(sha256Hex(mixed)).toBe(nodeSha(mixed));
    }
  });

  test('matches node:crypto on 2000 random strings incl. non-ASCII and lone surrogates', () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 2000; i++) {
      const s = randomString(rand, Math.floor(rand() * 201));
      expect(sha256Hex(s)).toBe(nodeSha(s));
    }
  });

  test('long input (multi-block)', () => {
    const s = 'é😀a'.repeat(10_000);
    expect(sha256Hex(s)).toBe(nodeSha(s));
  });

  test('utf8Bytes matches Buffer encoding', () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const s = randomString(rand, Math.floor(rand() * 50));
      expect(Buffer.from(utf8Bytes(s)).equals(Buffer.from(s, 'utf8'))).toBe(true);
    }
  });

  test('sha256Bytes on raw bytes', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff);
    expect(sha256Bytes(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
