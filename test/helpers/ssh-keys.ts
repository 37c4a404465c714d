// Real SSH keys and signatures for the signing tests: ssh-keygen in a temp dir, exactly as an
// approver would run it (`ssh-keygen -Y sign -n cutover -f KEY`, message on stdin).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestKey {
  /** Private key file (for `--sign` and ssh-keygen). */
  file: string;
  /** The public key line, `ssh-ed25519 AAAA… comment`. */
  publicLine: string;
  /** `SHA256:…` as ssh-keygen -l prints it. */
  fingerprint: string;
}

export function tempKeyDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-keys-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function makeKey(dir: string, name: string, type = 'ed25519'): TestKey {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@test`, '-f', file]);
  const publicLine = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`])
    .toString()
    .split(' ')[1];
  return { file, publicLine, fingerprint };
}

/** `ssh-keygen -Y sign` over `message` (stdin), armored signature from stdout. */
export function sshSign(key: TestKey, message: string, namespace = 'cutover', extra: string[] = []): string {
  return execFileSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', key.file, ...extra], {
    input: message,
    stdio: ['pipe', 'pipe', 'ignore'],
  }).toString();
}
