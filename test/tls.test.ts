// TLS end to end: a Temporal reached only through a TLS proxy that requires a client certificate
// (harness/tls-proxy.ts in front of a plain dev server; CA, server and client certificates made with
// openssl here). The built CLI and a `cutover worker` process get there through a profile in a TOML
// file (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE, runtime/config.ts); without the client certificate,
// or without TLS, the connection is refused. The test checks the server with its own plain client.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureBuilt } from '../harness/build';
import { makeTestCerts, type TestCerts } from '../harness/certs';
import { DevServer, exited } from '../harness/dev-server';
import { freePort } from '../harness/free-port';
import { ROOT } from '../harness/temporal-bin';
import { startTlsProxy, type TlsProxy } from '../harness/tls-proxy';
import { TASK_QUEUE } from '../common/temporal';

jest.setTimeout(240_000);

const BIN = path.join(ROOT, 'bin', 'cutover.js');
let dir: string;
let certs: TestCerts;
let server: DevServer;
let proxy: TlsProxy;
let configFile: string;

/** The environment without any TEMPORAL_* of the test run (npm test sets TEMPORAL_ADDRESS), plus `more`. */
function envWith(more: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  return { ...env, CUTOVER_CONNECT_TIMEOUT_MS: '15000', ...more };
}

/** The built CLI, run asynchronously: the proxy lives in this process and must keep serving meanwhile. */
function cutover(args: string[], more: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: envWith(more),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90_000,
    });
    let out = '';
    for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'cutover-tls-'));
  certs = makeTestCerts(dir);
  server = new DevServer(await freePort());
  await server.start();
  proxy = await startTlsProxy({
    target: { host: '127.0.0.1', port: server.port },
    key: readFileSync(certs.serverKey),
    cert: readFileSync(certs.serverCert),
    ca: readFileSync(certs.caCert),
  });
  configFile = path.join(dir, 'temporal.toml');
  writeFileSync(
    configFile,
    [
      '[profile.secure]',
      `address = "localhost:${proxy.port}"`,
      'namespace = "default"',
      '[profile.secure.tls]',
      `server_ca_cert_path = "${certs.caCert}"`,
      `client_cert_path = "${certs.clientCert}"`,
      `client_key_path = "${certs.clientKey}"`,
      '',
      '[profile.nocert]',
      `address = "localhost:${proxy.port}"`,
      'namespace = "default"',
      '[profile.nocert.tls]',
      `server_ca_cert_path = "${certs.caCert}"`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the CLI reaches Temporal through the mTLS proxy with a profile', async () => {
  const before = proxy.forwarded;
  const r = await cutover(['list'], { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'secure' });
  expect(r.out).not.toMatch(/cannot reach Temporal/);
  expect(r.code).toBe(0);
  expect(proxy.forwarded).toBeGreaterThan(before); // it went through the proxy, the only way it was given
});

test('without the client certificate the proxy refuses the connection and the CLI says so', async () => {
  const before = proxy.refused;
  const r = await cutover(['list'], { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'nocert', CUTOVER_CONNECT_TIMEOUT_MS: '5000' });
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/cannot reach Temporal at localhost:\d+ \(namespace default\): .*\(profile nocert, TLS\)/);
  expect(proxy.refused).toBeGreaterThan(before);
});

test('plain text to the TLS port is refused too', async () => {
  const before = proxy.refused;
  const r = await cutover(['list'], { TEMPORAL_ADDRESS: `localhost:${proxy.port}`, CUTOVER_CONNECT_TIMEOUT_MS: '5000' });
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/cannot reach Temporal/);
  expect(proxy.refused).toBeGreaterThan(before);
});

test('an unknown profile is bad input, named', async () => {
  const r = await cutover(['list'], { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'nosuch' });
  expect(r.code).toBe(2);
  expect(r.out).toContain("Profile 'nosuch' not found");
});

test('a cutover worker polls through the mTLS proxy with a profile', async () => {
  let worker: ChildProcess | undefined;
  let log = '';
  const plain = await Connection.connect({ address: server.address });
  try {
    worker = spawn(process.execPath, [BIN, 'worker'], {
      cwd: ROOT,
      env: envWith({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'secure', CUTOVER_LOG_LEVEL: 'WARN' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [worker.stdout!, worker.stderr!]) s.on('data', (d: Buffer) => (log += d.toString()));
    const identity = `${worker.pid}@`;
    const deadline = Date.now() + 180_000;
    let seen = false;
    while (!seen) {
      if (worker.exitCode !== null) throw new Error(`the worker exited ${worker.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`the worker never polled ${TASK_QUEUE} through the proxy: ${log}`);
      // The server's own word, asked over a plain connection that bypasses the proxy.
      const q = await plain.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: TASK_QUEUE },
        taskQueueType: 1 /* workflow */,
      });
      seen = (q.pollers ?? []).some((p) => (p.identity ?? '').startsWith(identity));
      if (!seen) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(log).toMatch(/profile secure, mTLS/);
  } finally {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      if (!(await exited(worker, 30_000))) worker.kill('SIGKILL');
    }
    await plain.close();
  }
});
