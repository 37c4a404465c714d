// The real processes the reliability suite breaks: a Temporal dev server persisted to a database file
// (so it can be stopped and started again mid-run, as an operator restarting it would) and cutover
// workers as separate OS processes (`node bin/cutover.js worker`, the built CLI), so kill -9 is real.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { exited } from '../harness/dev-server';
import { ROOT } from '../harness/temporal-bin';

export { DevServer } from '../harness/dev-server';
export { setTimeout as sleep } from 'node:timers/promises';
export { freePort } from '../harness/free-port';

/**
 * One worker process: `cutover worker` (the built CLI, task queue `cutover`), or with `bundle` the
 * suite's own worker script on a run's task queue (chaos/worker.ts). Output goes to `log`, by pid.
 */
export class WorkerProcess {
  private child: ChildProcess;
  readonly done: Promise<boolean>;

  constructor(address: string, env: Record<string, string>, log: (line: string) => void, own?: { taskQueue: string; bundle: string }) {
    if (!existsSync(path.join(ROOT, 'dist', 'client', 'main.js'))) throw new Error('cutover is not built: run `npm run build` first');
    const args = own ? [path.join(ROOT, 'dist', 'chaos', 'worker.js')] : [path.join(ROOT, 'bin', 'cutover.js'), 'worker'];
    if (own) Object.assign(env, { CHAOS_TASK_QUEUE: own.taskQueue, CHAOS_WORKFLOW_BUNDLE: own.bundle });
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: 'default',
        CUTOVER_LOG_LEVEL: 'WARN',
        CUTOVER_MAX_ACTIVITIES: '32',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = this.child.pid;
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) log(`worker ${pid}: ${l}`);
      });
    }
    this.done = new Promise((resolve) => this.child.once('exit', () => resolve(true)));
  }

  /** It ended without being told to (crashed, could not connect). */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** kill -9: no shutdown, no answer for the activities it holds. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await exited(this.child, 10000);
  }

  /** A graceful stop (SIGTERM), for the end of the suite. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    if (!(await exited(this.child, 30000))) await this.kill9();
  }
}
