// Payload encryption without a Temporal server: the AES-256-GCM codec (round trip, rotation, wrong and
// unknown keys, tampering, plain payloads passing through), CUTOVER_CODEC_KEYS parsing, and
// `cutover codec-server` over real HTTP (Temporal's remote codec protocol, CORS, errors).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { CodecError, EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, parseCodecKeys } from '../common/codec';
import { startCodecServer, payloadToJson, type RunningCodecServer } from '../client/codec-server';
import { run as cutover } from '../client/main';
import type { Io } from '../client/io';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const codec = (spec: string) => new EncryptionCodec(parseCodecKeys(spec));
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const SECRET = 'Zebra Confidential Holdings — approved by Dana';
const plain = (): Payload => defaultPayloadConverter.toPayload({ comment: SECRET, n: 1 });

describe('CUTOVER_CODEC_KEYS', () => {
  test('id:base64key entries, the first one encrypts', () => {
    const keys = parseCodecKeys(` new:${k2} , old:${k1}`);
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[0].key.equals(Buffer.from(k2, 'base64'))).toBe(true);
    expect(codec(`new:${k2},old:${k1}`).encryptKeyId).toBe('new');
    expect(parseCodecKeys(undefined)).toEqual([]);
    expect(parseCodecKeys('  ')).toEqual([]);
  });

  test.each([
    [`a:${k1},`, /entry 2 is empty/],
    [`${k1}`, /entry 1 has no "id:" prefix/],
    [`a:${k1},b c:${k2}`, /entry 2: key id "b c" must be/],
    [`a:${k1},a:${k2}`, /entry 2 \(key id "a"\): the key id is used twice/],
    [`a:${k1},b:not*base64`, /entry 2 \(key id "b"\): the key is not base64/],
    [`a:${k1},short:${randomBytes(16).toString('base64')}`, /entry 2 \(key id "short"\): the key is 16 bytes, AES-256 needs 32/],
  ])('malformed %#: the error names the entry, never the key', (spec, message) => {
    let err: unknown;
    try {
      parseCodecKeys(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodecError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^CUTOVER_CODEC_KEYS entry \d/);
    expect((err as Error).message).not.toContain(k1);
    expect((err as Error).message).not.toContain(k2);
  });
});

describe('EncryptionCodec', () => {
  test('encrypts the whole payload (metadata included) and decrypts it back', async () => {
    const c = codec(`k1:${k1}`);
    const original = plain();
    const [enc] = await c.encode([original]);
    expect(text(enc.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(enc.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(enc.metadata ?? {}).sort()).toEqual(['encoding', 'encryption-cipher', 'encryption-key-id']);
    expect(text(enc.data)).not.toContain('Zebra');
    expect(text(enc.data)).not.toContain('json/plain');
    const [dec] = await c.decode([enc]);
    expect(text(dec.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(dec)).toEqual({ comment: SECRET, n: 1 });
    // A fresh nonce each time: the same value never gives the same ciphertext.
    const [again] = await c.encode([original]);
    expect(Buffer.from(again.data!).equals(Buffer.from(enc.data!))).toBe(false);
  });

  test('rotation: the first key encrypts, every listed key decrypts', async () => {
    const before = codec(`old:${k1}`);
    const during = codec(`new:${k2},old:${k1}`);
    const after = codec(`new:${k2}`);
    const [byOld] = await before.encode([plain()]);
    const [byNew] = await during.encode([plain()]);
    expect(text(byNew.metadata?.[KEY_ID_METADATA])).toBe('new');
    expect(defaultPayloadConverter.fromPayload((await during.decode([byOld]))[0])).toEqual({ comment: SECRET, n: 1 });
    expect(defaultPayloadConverter.fromPayload((await after.decode([byNew]))[0])).toEqual({ comment: SECRET, n: 1 });
    // Once the old key is dropped, what it encrypted names the missing key id.
    await expect(after.decode([byOld])).rejects.toThrow(
      'cannot decrypt a payload encrypted with key id "old": CUTOVER_CODEC_KEYS has no such key (it has key id(s) "new")',
    );
  });

  test('a wrong key under the right id, a relabelled or altered payload: a clear error naming the key id, not the key', async () => {
    const [enc] = await codec(`k1:${k1}`).encode([plain()]);
    const wrong = codec(`k1:${k2}`);
    const err = await wrong.decode([enc]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(CodecError);
    expect((err as Error).message).toMatch(/key id "k1": the key CUTOVER_CODEC_KEYS gives for "k1" is not the one it was encrypted with/);
    expect((err as Error).message).not.toContain(k1);
    expect((err as Error).message).not.toContain(k2);

    // The key id is authenticated: relabelling to another valid id does not decrypt.
    const both = codec(`k1:${k1},k2:${k1}`);
    const relabelled = { ...enc, metadata: { ...enc.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(both.decode([relabelled])).rejects.toThrow(/key id "k2".*not the one/);
    const altered = Buffer.from(enc.data!);
    altered[20] ^= 1;
    await expect(both.decode([{ ...enc, data: altered }])).rejects.toThrow(/key id "k1".*or the payload was altered/);
    await expect(both.decode([{ ...enc, data: Buffer.alloc(5) }])).rejects.toThrow(/truncated/);
  });

  test('payloads without its encoding pass through; without keys nothing is encrypted and encrypted payloads name the missing keys', async () => {
    const c = codec(`k1:${k1}`);
    const p = plain();
    expect(await c.decode([p])).toEqual([p]);
    const none = codec('');
    expect(await none.encode([p])).toEqual([p]);
    expect(await none.decode([p])).toEqual([p]);
    const [enc] = await c.encode([p]);
    await expect(none.decode([enc])).rejects.toThrow(
      'cannot decrypt a payload encrypted with key id "k1": CUTOVER_CODEC_KEYS has no such key (it is not set in this process)',
    );
    // Empty payloads (a void result) survive the round trip.
    const [emptyEnc] = await c.encode([{ metadata: { encoding: Buffer.from('binary/null') } }]);
    const [empty] = await c.decode([emptyEnc]);
    expect(text(empty.metadata?.encoding)).toBe('binary/null');
    expect(empty.data?.length ?? 0).toBe(0);
  });
});

describe('codec server', () => {
  let server: RunningCodecServer;
  afterEach(async () => {
    await server?.close();
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('POST /encode then /decode (the proto JSON the UI and the official CLI send), CORS preflight, errors', async () => {
    server = await startCodecServer({ codec: codec(`k1:${k1}`), noAuth: true });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const input = { payloads: [payloadToJson(plain())] };
    const encRes = await post('/encode', input);
    expect(encRes.status).toBe(200);
    expect(encRes.headers.get('access-control-allow-origin')).toBeNull(); // no Origin: not a browser
    const encoded = (await encRes.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(encoded.payloads[0].data, 'base64').toString()).not.toContain('Zebra');

    const decRes = await post('/decode', encoded);
    expect(decRes.status).toBe(200);
    expect(await decRes.json()).toEqual(input);
    // `{namespace}` endpoints post to /<namespace>/decode.
    expect((await post('/default/decode', encoded)).status).toBe(200);

    const pre = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:8233',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(pre.status).toBe(204);
    // By default only the dev server's UI origin is answered, never `*`.
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const elsewhere = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type, x-namespace, authorization');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');

    const bad = await post('/decode', '{"payloads": 3}');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('"payloads" is not an array');
    expect(await (await post('/decode', '{}')).json()).toEqual({ payloads: [] });
    expect((await post('/decode', '[]')).status).toBe(400);
    const notB64 = await post('/decode', { payloads: [{ metadata: { encoding: 'json/plain!' }, data: '' }] });
    expect(notB64.status).toBe(400);
    expect(await notB64.text()).toContain('payloads[0].metadata.encoding is not a base64 string');
    expect((await post('/nothing', input)).status).toBe(404);
    expect((await fetch(`${server.url}/decode`)).status).toBe(405);

    // Decoding with the wrong key: 422 naming the key id, never the key.
    await server.close();
    server = await startCodecServer({ codec: codec(`k1:${k2}`), noAuth: true });
    const wrong = await post('/decode', encoded);
    expect(wrong.status).toBe(422);
    const message = await wrong.text();
    expect(message).toContain('key id "k1"');
    expect(message).not.toContain(k1);
    expect(message).not.toContain(k2);
  });

  test('named origins are echoed with credentials, others refused; an Authorization header can be required', async () => {
    server = await startCodecServer({
      codec: codec(`k1:${k1}`),
      allowOrigins: ['https://temporal.example.com'],
      authorization: 'Bearer s3cret',
    });
    const input = { payloads: [payloadToJson(plain())] };
    const ok = await post('/encode', input, { origin: 'https://temporal.example.com', authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://temporal.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await post('/encode', input, { origin: 'https://evil.example.com', authorization: 'Bearer s3cret' });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await post('/encode', input, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post('/encode', input)).status).toBe(401);
  });

  test('without an Authorization value it refuses to start unless noAuth is asked for', async () => {
    await expect(startCodecServer({ codec: codec(`k1:${k1}`) })).rejects.toThrow(
      'needs an Authorization value (a bearer token), or noAuth: true',
    );
  });
});

describe('cutover codec-server and the CLI with CUTOVER_CODEC_KEYS', () => {
  async function cli(args: string[], env: Record<string, string | undefined>, signal?: AbortSignal) {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false };
    const code = cutover(['node', 'cutover', ...args], io, { PATH: process.env.PATH, ...env }, signal);
    return { code, out, err };
  }

  test('serves until stopped, binding 127.0.0.1, with the bearer token of CUTOVER_CODEC_TOKEN; keys missing or malformed → exit 2 naming the entry', async () => {
    const stop = new AbortController();
    const started = await cli(
      ['codec-server', '--port', '0'],
      { CUTOVER_CODEC_KEYS: `k1:${k1}`, CUTOVER_CODEC_TOKEN: 'tok3n' },
      stop.signal,
    );
    for (let i = 0; i < 100 && !started.out.length; i++) await new Promise((r) => setTimeout(r, 20));
    const url = started.out[0];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const [enc] = await codec(`k1:${k1}`).encode([plain()]);
    const decode = (headers: Record<string, string>) =>
      fetch(`${url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ payloads: [payloadToJson(enc)] }),
      });
    expect((await decode({ authorization: 'Bearer tok3n' })).status).toBe(200);
    expect((await decode({})).status).toBe(401);
    expect((await decode({ authorization: 'Bearer wrong' })).status).toBe(401);
    const fromUi = await decode({ authorization: 'Bearer tok3n', origin: 'http://127.0.0.1:8233' });
    expect(fromUi.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect((await decode({ authorization: 'Bearer tok3n', origin: 'https://evil.example.com' })).status).toBe(403);
    stop.abort();
    expect(await started.code).toBe(0);
    expect(started.err.join('\n')).toContain('key id "k1"');
    expect(started.err.join('\n')).toContain('Authorization required');
    expect(started.err.join('\n')).not.toContain(k1);
    expect(started.err.join('\n')).not.toContain('tok3n');

    const missing = await cli(['codec-server', '--port', '0'], { CUTOVER_CODEC_TOKEN: 'tok3n' });
    expect(await missing.code).toBe(2);
    expect(missing.err.join('\n')).toContain('codec-server needs the keys: set CUTOVER_CODEC_KEYS');
    const bad = await cli(['codec-server', '--port', '0'], { CUTOVER_CODEC_KEYS: `k1:${k1},k2`, CUTOVER_CODEC_TOKEN: 'tok3n' });
    expect(await bad.code).toBe(2);
    expect(bad.err.join('\n')).toContain('CUTOVER_CODEC_KEYS entry 2 has no "id:" prefix');
  });

  test('without a token it refuses to start, saying how (exit 2); --no-auth serves without one, saying so; --origin names the UI', async () => {
    const none = await cli(['codec-server', '--port', '0'], { CUTOVER_CODEC_KEYS: `k1:${k1}` });
    expect(await none.code).toBe(2);
    expect(none.err.join('\n')).toContain('codec-server needs a bearer token: set CUTOVER_CODEC_TOKEN (or --token)');
    expect(none.err.join('\n')).toContain('pass --no-auth explicitly');
    const both = await cli(['codec-server', '--port', '0', '--no-auth', '--token', 'x'], { CUTOVER_CODEC_KEYS: `k1:${k1}` });
    expect(await both.code).toBe(2);

    const stop = new AbortController();
    const open = await cli(
      ['codec-server', '--port', '0', '--no-auth', '--origin', 'https://ui.example.com'],
      { CUTOVER_CODEC_KEYS: `k1:${k1}` },
      stop.signal,
    );
    for (let i = 0; i < 100 && !open.out.length; i++) await new Promise((r) => setTimeout(r, 20));
    const [enc] = await codec(`k1:${k1}`).encode([plain()]);
    const decode = (origin: string) =>
      fetch(`${open.out[0]}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ payloads: [payloadToJson(enc)] }),
      });
    const ok = await decode('https://ui.example.com');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    expect((await decode('http://localhost:8233')).status).toBe(403);
    stop.abort();
    expect(await open.code).toBe(0);
    expect(open.err.join('\n')).toContain('NO AUTHORIZATION (--no-auth): anyone who reaches it can decrypt');
  });

  test('a malformed CUTOVER_CODEC_KEYS stops commands that talk to Temporal (exit 2, before connecting); offline commands ignore it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-codec-'));
    try {
      const file = join(dir, 'plan.yaml');
      writeFileSync(
        file,
        'version: 1\nid: codec-offline\nstrategy: selective\nsource: pilot\ntarget: production\napprovals: { approvers: [alice, bob], required: 1 }\ntables:\n  - table: public.accounts\n    ids: keep\n',
      );
      const env = { CUTOVER_CODEC_KEYS: `k1:${randomBytes(8).toString('base64')}`, TEMPORAL_ADDRESS: '127.0.0.1:1' };
      const hash = await cli(['plan', 'hash', file], env);
      expect(await hash.code).toBe(0);
      const status = await cli(['status', 'codec-offline'], env);
      expect(await status.code).toBe(2);
      expect(status.err.join('\n')).toContain('CUTOVER_CODEC_KEYS entry 1 (key id "k1"): the key is 8 bytes, AES-256 needs 32');
      expect(status.err.join('\n')).not.toContain('cannot reach Temporal');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the failure converter Temporal loads by path is part of the build (dist/), not only of the sources', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const root = join(__dirname, '..');
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  const program = ts.createProgram({ rootNames: config!.fileNames, options: { ...config!.options, noEmit: true } });
  expect(program.getSourceFile(join(root, 'common', 'encrypted-failures.ts'))).toBeDefined();
}, 120000);
