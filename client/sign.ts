// `--sign KEYFILE`: has ssh-keygen sign a decision's exact message (common/signing.ts), as an
// approver would by hand: `ssh-keygen -Y sign -n cutover -f KEYFILE`. The message goes through a
// temp file rather than stdin, so ssh-keygen can still ask for the key's passphrase on the terminal.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SIGNING_NAMESPACE } from '../common/signing';
import { badInput, failed } from './errors';

/** `--sign KEYFILE` checked before anything is sent or queried (bad input: exit 2). */
export function keyFileOption(value: string): string {
  const file = value.trim();
  if (!file) throw badInput('--sign must name a key file');
  if (!existsSync(file)) throw badInput(`--sign: no key file ${file}`);
  return file;
}

/** The armored SSH signature of `message` by the key in `keyFile` (a private key, or a .pub whose key ssh-agent holds). */
export function sshSign(keyFile: string, message: string, env: Record<string, string | undefined> = process.env): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-sign-'));
  try {
    const file = path.join(dir, 'message');
    writeFileSync(file, message);
    try {
      execFileSync('ssh-keygen', ['-Y', 'sign', '-n', SIGNING_NAMESPACE, '-f', keyFile, file], {
        stdio: ['inherit', 'ignore', 'pipe'],
        env: env as NodeJS.ProcessEnv,
      });
    } catch (err) {
      const detail = ((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim().split('\n').pop();
      throw failed(`--sign: ssh-keygen -Y sign -n ${SIGNING_NAMESPACE} -f ${keyFile} failed: ${detail}`);
    }
    return readFileSync(`${file}.sig`, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
