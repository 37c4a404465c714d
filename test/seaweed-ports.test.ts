// Every SeaweedFS port of the dev services is derived from one base port (scripts/lib.sh,
// SEAWEED_BASE_PORT), with the same offsets as the test helper (test/helpers/seaweed.ts): two
// checkouts with different bases never collide. Read from the script's own `weed mini` command line.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { seaweedPorts } from './helpers/seaweed';

const ROOT = resolve(__dirname, '..');

function sh(script: string, env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  const r = spawnSync('bash', ['-c', `. scripts/lib.sh; ${script}`], { cwd: ROOT, env: clean, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `-x.port=N` flags of seaweed_args, by flag name. */
function portFlags(stdout: string): Record<string, number> {
  return Object.fromEntries([...stdout.matchAll(/^-([a-z0-9.]+\.port(?:\.grpc)?)=(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

test("seaweed_args derives every port from SEAWEED_BASE_PORT, with the helper's offsets", () => {
  for (const base of [18330, 30000]) {
    const r = sh('seaweed_args; echo "s3=$SEAWEED_S3_PORT"', { SEAWEED_BASE_PORT: String(base) });
    expect(r.code).toBe(0);
    const p = seaweedPorts(base);
    expect(portFlags(r.stdout)).toEqual({
      'master.port': p.master,
      'master.port.grpc': p.masterGrpc,
      'volume.port': p.volume,
      'volume.port.grpc': p.volumeGrpc,
      'filer.port': p.filer,
      'filer.port.grpc': p.filerGrpc,
      's3.port': p.s3,
      's3.port.grpc': p.s3Grpc,
      'webdav.port': p.webdav,
      'admin.port': p.admin,
      'admin.port.grpc': p.adminGrpc,
    });
    expect(r.stdout).toContain(`s3=${p.s3}`);
  }
  // The default keeps S3 where docs/operating.md says it is.
  expect(sh('echo "$SEAWEED_S3_PORT"', {}).stdout.trim()).toBe('18333');
});

test('SEAWEED_S3_PORT alone moves the base with it; a bad base is refused by name', () => {
  expect(sh('echo "$SEAWEED_BASE_PORT"', { SEAWEED_S3_PORT: '40003' }).stdout.trim()).toBe('40000');
  const bad = sh('echo unreachable', { SEAWEED_BASE_PORT: '60000' });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('SEAWEED_BASE_PORT must be between');
  expect(bad.stdout).toBe('');
});

test('no SeaweedFS port is written out by hand in the scripts', () => {
  for (const f of ['scripts/lib.sh', 'scripts/services.sh', 'scripts/demo.sh']) {
    expect(readFileSync(join(ROOT, f), 'utf8')).not.toMatch(/port(?:\.grpc)?=\d/);
  }
});
