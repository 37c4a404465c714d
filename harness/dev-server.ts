// A Temporal dev server as a child process (the CLI from temporal-bin.ts, the cutover search
// attributes registered, its banner kept off stdout) for the bench and the chaos suite: started on a
// given port and waited for until its namespace answers; stopped with SIGTERM, then SIGKILL. Shared by
// the tests, the bench and the chaos suite (harness/).
import { spawn, type ChildProcess } from 'node:child_process';
import { SEARCH_ATTRIBUTES } from '../common/temporal';
import { createConnection } from '../runtime/client';
import { temporalBin } from './temporal-bin';
import { limitArgs } from './server-limits';
import { setTimeout as sleep } from 'node:timers/promises';

/** Wait for a child to exit (at most `ms`), true when it did. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** `temporal server start-dev` on a fixed port, in memory or on `dbFile` (then restart() keeps the runs). */
export class DevServer {
  private child: ChildProcess | null = null;
  private errTail = '';
  constructor(
    readonly port: number,
    readonly dbFile?: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Start the server. The dev server picks free ports of its own for its internal services (history,
   * matching, worker); another process on the machine can take one between its pick and its bind, and
   * it exits "address already in use": that start is tried again (a few times), nothing else is.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        if (attempt >= 3 || !/address already in use/.test(String(e))) throw e;
        this.errTail = '';
      }
    }
  }

  private async startOnce(): Promise<void> {
    const sa = Object.values(SEARCH_ATTRIBUTES).flatMap((n) => ['--search-attribute', `${n}=Keyword`]);
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--headless',
      '--log-level',
      'error',
      '--namespace',
      'default',
      ...(this.dbFile ? ['--db-filename', this.dbFile] : []),
      ...sa,
      // The limits the product is tested against (the signal limit bounds a flood while a step runs).
      ...limitArgs(),
    ];
    const child = spawn(temporalBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.errTail = (this.errTail + d.toString()).slice(-4000)));
    const deadline = Date.now() + 120000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`temporal server start-dev exited ${child.exitCode}: ${this.errTail}`);
      try {
        // Plain, whatever TEMPORAL_* the environment holds: this server is ours and has no TLS.
        const conn = await createConnection({ config: { address: this.address, namespace: 'default' }, connectTimeoutMs: 1000 });
        try {
          await conn.workflowService.describeNamespace({ namespace: 'default' });
          return;
        } finally {
          await conn.close();
        }
      } catch (e) {
        if (Date.now() > deadline) {
          await this.stop();
          throw new Error(`the Temporal dev server did not come up on ${this.address}: ${String(e)} ${this.errTail}`, { cause: e });
        }
        await sleep(300);
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGTERM');
    if (!(await exited(child, 20000))) {
      child.kill('SIGKILL');
      await exited(child, 10000);
    }
  }

  /** Stop and start again on the same port and database file. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
