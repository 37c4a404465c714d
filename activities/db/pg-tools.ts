// Runs the PostgreSQL client tools (pg_dump, pg_restore) against a connection URL. The password
// never reaches a command line (where `ps` shows it) or a message: it goes in PGPASSWORD, the rest
// of the URL in --dbname, and the tools' stderr is redacted before it is quoted in an error.
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** --dbname value without the password, and the environment that carries it. */
export function toolConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv; secrets: string[] } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ToolError('a connection URL is not a valid URL (postgres://user:password@host:port/db)');
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: process.env.PGAPPNAME ?? 'cutover:backup' };
  const secrets: string[] = [];
  const password = u.password ? decodeURIComponent(u.password) : u.searchParams.get('password');
  if (password) {
    env.PGPASSWORD = password;
    secrets.push(password, encodeURIComponent(password));
    u.password = '';
    u.searchParams.delete('password');
  }
  return { dbname: u.toString(), env, secrets };
}

export function redact(text: string, secrets: string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((t, s) => t.split(s).join('***'), text);
}

export interface Tool {
  /** stdout, ended only when the tool exits 0; destroyed with a ToolError otherwise. */
  output: Readable;
  /** Resolves with the exit; rejects with a ToolError naming the tool and its (redacted) stderr. */
  done: Promise<void>;
  kill(): void;
}

export interface ToolOptions {
  url?: string; // the database to work on; none for pg_restore --list
  stdin?: Readable;
  signal?: AbortSignal; // the activity was cancelled: stop the tool
}

/**
 * Start `cmd args… [--dbname=<url>]`. `stdin`, when given, is piped in; if the tool stops reading
 * early (pg_restore --list reads only the table of contents) the source is closed, not an error.
 */
export function runTool(cmd: string, args: string[], opts: ToolOptions = {}): Tool {
  const conn = opts.url ? toolConnection(opts.url) : { dbname: '', env: process.env, secrets: [] };
  const child = spawn(cmd, opts.url ? [...args, '--no-password', `--dbname=${conn.dbname}`] : args, {
    env: conn.env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-8000);
  });
  const output = new PassThrough();
  // A truncated dump must never look complete: stdout ends only once the exit code says success.
  child.stdout!.pipe(output, { end: false });
  output.on('error', () => undefined); // a consumer that gave up (the store refused) is told by `done`
  const stop = () => void child.kill('SIGTERM');
  opts.signal?.addEventListener('abort', stop, { once: true });

  let sourceError: Error | undefined;
  if (opts.stdin) {
    child.stdin!.on('error', () => undefined); // EPIPE once the tool has read what it needs
    opts.stdin.on('error', (e) => {
      sourceError = e;
      stop();
    });
    opts.stdin.pipe(child.stdin!);
  }

  const done = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      output.destroy(err);
      reject(err);
    };
    child.once('error', (e) =>
      fail(new ToolError(`${cmd} could not be started: ${e.message} (the PostgreSQL client tools must be on PATH)`)),
    );
    child.once('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', stop);
      opts.stdin?.unpipe();
      opts.stdin?.destroy();
      if (code === 0 && !sourceError) {
        output.end();
        return resolve();
      }
      if (sourceError) return fail(sourceError);
      const why = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
      fail(new ToolError(`${cmd} ${why}: ${redact(stderr.trim(), conn.secrets) || '(no message)'}`));
    });
  });
  done.catch(() => undefined); // callers await it; never an unhandled rejection in between
  return { output, done, kill: stop };
}

/** Run a tool to completion and return its stdout as text (pg_restore --list). */
export async function toolText(cmd: string, args: string[], opts: ToolOptions = {}): Promise<string> {
  const tool = runTool(cmd, args, opts);
  const chunks: Buffer[] = [];
  tool.output.on('data', (c: Buffer) => chunks.push(c));
  tool.output.on('error', () => undefined);
  await tool.done;
  return Buffer.concat(chunks).toString('utf8');
}
