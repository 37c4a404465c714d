// The signature stack the workflow verifies approvals with: Ed25519 (@noble/curves, strict RFC 8032
// mode) against RFC 8032's vectors and node:crypto, SSHSIG parsing against real `ssh-keygen -Y sign`.
import { generateKeyPairSync, sign } from 'node:crypto';
import { ed25519Verify, parseSshSignature, signatureVerifies, type SshSignature } from '../plan/ssh/sshsig';
import { base64Decode, base64Encode, parsePublicKeyLine } from '../plan/ssh/wire';
import { makeKey, sshSign, tempKeyDir, type TestKey } from './helpers/ssh-keys';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const hexToBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('ed25519 verification (strict RFC 8032 §5.1.7)', () => {
  // RFC 8032 §7.1 TEST 1, TEST 2, TEST 3: public key, message, signature.
  const VECTORS = [
    [
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      '',
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    ],
    [
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      '72',
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    ],
    [
      'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      'af82',
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    ],
  ].map(([pk, msg, sig]) => ({ pk: hexToBytes(pk), msg: hexToBytes(msg), sig: hexToBytes(sig) }));

  test.each(VECTORS.map((v, i) => [i + 1, v] as const))('RFC 8032 TEST %i verifies; a flipped bit anywhere does not', (_n, v) => {
    expect(ed25519Verify(v.pk, v.msg, v.sig)).toBe(true);
    const flip = (b: Uint8Array, i: number) => Uint8Array.from(b, (x, j) => (j === i ? x ^ 1 : x));
    expect(ed25519Verify(v.pk, Uint8Array.from([...v.msg, 0]), v.sig)).toBe(false);
    if (v.msg.length) expect(ed25519Verify(v.pk, flip(v.msg, 0), v.sig)).toBe(false);
    for (const i of [0, 31, 32, 63]) expect(ed25519Verify(v.pk, v.msg, flip(v.sig, i))).toBe(false);
    for (const i of [0, 31]) expect(ed25519Verify(flip(v.pk, i), v.msg, v.sig)).toBe(false);
    expect(ed25519Verify(VECTORS[(VECTORS.indexOf(v) + 1) % 3].pk, v.msg, v.sig)).toBe(false);
  });

  test('S ≥ L (a malleated signature) is refused', () => {
    const v = VECTORS[0];
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(v.sig[i]);
    const malleated = v.sig.slice();
    let t = s + L;
    for (let i = 32; i < 64; i++, t >>= 8n) malleated[i] = Number(t & 0xffn);
    expect(ed25519Verify(v.pk, v.msg, malleated)).toBe(false);
  });

  test('agrees with node:crypto on 40 random keys and messages', () => {
    for (let i = 0; i < 40; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const pk = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
      const msg = Uint8Array.from({ length: i * 7 }, (_, j) => (j * 17 + i) & 0xff);
      const sig = new Uint8Array(sign(null, msg, privateKey));
      expect(ed25519Verify(pk, msg, sig)).toBe(true);
      sig[5] ^= 0x10;
      expect(ed25519Verify(pk, msg, sig)).toBe(false);
    }
  });

  test('garbage is refused, never thrown on', () => {
    expect(ed25519Verify(new Uint8Array(32).fill(0xff), new Uint8Array(0), new Uint8Array(64))).toBe(false);
    expect(ed25519Verify(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64))).toBe(false);
    expect(ed25519Verify(VECTORS[0].pk, new Uint8Array(0), new Uint8Array(63))).toBe(false);
  });
});

describe('SSH keys and SSHSIG signatures from ssh-keygen', () => {
  const tmp = tempKeyDir();
  let bob: TestKey, eve: TestKey;
  beforeAll(() => {
    bob = makeKey(tmp.dir, 'bob');
    eve = makeKey(tmp.dir, 'eve');
  });
  afterAll(() => tmp.cleanup());

  const MESSAGE = 'cutover-approval:v2\ncutover-demo\n0123456789ab\nplan\n' + 'ab'.repeat(32) + '\n-\n';
  const parsed = (armored: string): SshSignature => {
    const sig = parseSshSignature(armored);
    if (typeof sig === 'string') throw new Error(sig);
    return sig;
  };

  test('base64 round-trips; public key lines parse with ssh-keygen -l fingerprints', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(base64Encode(b)).toBe(Buffer.from(b).toString('base64'));
      expect(hex(base64Decode(base64Encode(b))!)).toBe(hex(b));
    }
    expect(base64Decode('a$bc')).toBeNull();
    const key = parsePublicKeyLine(bob.publicLine);
    expect(typeof key).toBe('object');
    expect(typeof key === 'object' && key.fingerprint).toBe(bob.fingerprint);
    // The 32-byte key is the blob's last 32 bytes (Buffer's own base64 decoding).
    expect(typeof key === 'object' && hex(key.key)).toBe(hex(Buffer.from(bob.publicLine.split(' ')[1], 'base64').subarray(-32)));
    expect(parsePublicKeyLine('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==')).toMatch(/truncated/);
    const short = Buffer.concat([
      Buffer.from('0000000b', 'hex'),
      Buffer.from('ssh-ed25519'),
      Buffer.from('0000001f', 'hex'),
      Buffer.alloc(31),
    ]);
    expect(parsePublicKeyLine(`ssh-ed25519 ${short.toString('base64')}`)).toMatch(/32 bytes, this one is 31/);
    expect(parsePublicKeyLine('ssh-ed25519')).toMatch(/must be an SSH public key line/);
  });

  test('a real ssh-keygen signature parses and verifies over exactly its message (sha512 and sha256)', () => {
    const sig = parsed(sshSign(bob, MESSAGE));
    expect(sig).toMatchObject({ namespace: 'cutover', hashAlgorithm: 'sha512' });
    expect(sig.publicKey.fingerprint).toBe(bob.fingerprint);
    expect(signatureVerifies(sig, MESSAGE)).toBe(true);
    const sha256 = parsed(sshSign(bob, MESSAGE, 'cutover', ['-O', 'hashalg=sha256']));
    expect(sha256.hashAlgorithm).toBe('sha256');
    expect(signatureVerifies(sha256, MESSAGE)).toBe(true);
  });

  test('tampered message, swapped key or another namespace fail', () => {
    const armored = sshSign(bob, MESSAGE);
    const sig = parsed(armored);
    expect(signatureVerifies(sig, MESSAGE.replace('plan', 'cutover'))).toBe(false);
    expect(signatureVerifies(sig, MESSAGE.slice(0, -1))).toBe(false);
    // Eve's key in place of bob's (a forged claim of who signed).
    const eveKey = parsePublicKeyLine(eve.publicLine);
    if (typeof eveKey === 'string') throw new Error(eveKey);
    expect(signatureVerifies({ ...sig, publicKey: eveKey }, MESSAGE)).toBe(false);
    // A signature made for another namespace says so, and does not verify as ours.
    const other = parsed(sshSign(bob, MESSAGE, 'git'));
    expect(other.namespace).toBe('git');
    expect(signatureVerifies({ ...other, namespace: 'cutover' }, MESSAGE)).toBe(false);
    // A flipped bit in the armored body.
    const body = armored.split('\n');
    body[3] = body[3].slice(0, 10) + (body[3][10] === 'A' ? 'B' : 'A') + body[3].slice(11);
    const flipped = parseSshSignature(body.join('\n'));
    expect(typeof flipped === 'string' || !signatureVerifies(flipped, MESSAGE)).toBe(true);
  });

  test('malformed signatures are refused with a reason', () => {
    expect(parseSshSignature('hello')).toMatch(/must be an armored SSH signature/);
    expect(parseSshSignature('-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----')).toMatch(/not valid base64/);
    expect(parseSshSignature('-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----')).toMatch(
      /malformed SSH signature \(public key: truncated\)/,
    );
    expect(
      parseSshSignature(`-----BEGIN SSH SIGNATURE-----\n${Buffer.from('NOTSIG').toString('base64')}\n-----END SSH SIGNATURE-----`),
    ).toMatch(/magic/);
    const rsa = makeKey(tmp.dir, 'rsa', 'rsa');
    expect(parseSshSignature(sshSign(rsa, MESSAGE))).toMatch(/signing key: key type ssh-rsa is not supported \(only ssh-ed25519\)/);
    expect(parsePublicKeyLine(rsa.publicLine)).toMatch(/key type ssh-rsa is not supported/);
  });

  test('verification is fast enough to run per signal in the workflow (printed, not asserted)', () => {
    const armored = sshSign(bob, MESSAGE);
    expect(signatureVerifies(parsed(armored), MESSAGE)).toBe(true); // warm up
    const runs = 20;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) expect(signatureVerifies(parsed(armored), MESSAGE)).toBe(true);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / runs;
    console.log(`SSHSIG parse + ed25519 verify: ${ms.toFixed(2)} ms per signature (${runs} runs)`);
  });
});
