// The application writer on a thread of its own. An application is not the process that runs the
// cutover worker: on the bench's main thread its latencies also measured that thread's event loop,
// busy streaming COPY data and running workflow tasks — a stall no real application sees. Here the
// same Writer (bench/writer.ts) runs on its own event loop; the bench drives it through messages.
// Only loaded from dist/ (a worker thread runs JavaScript).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Writer, type WriterCounts } from './writer';

type Command = 'open' | 'sample' | 'start' | 'stop' | 'verify' | 'close';
interface Call {
  id: number;
  cmd: Command;
  arg?: number;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
  counts: WriterCounts;
  startedAt: number[];
}

if (!isMainThread && parentPort && (workerData as { writerUrl?: string } | null)?.writerUrl) {
  const port = parentPort;
  const w = new Writer((workerData as { writerUrl: string }).writerUrl);
  const run: Record<Command, (arg?: number) => Promise<unknown>> = {
    open: () => w.open(),
    sample: (ms) => w.sample(ms!),
    start: async () => w.start(),
    stop: () => w.stop(),
    verify: () => w.verify(),
    close: () => w.close(),
  };
  port.on('message', (m: Call) => {
    run[m.cmd](m.arg).then(
      (result) => port.postMessage({ id: m.id, result, counts: w.counts, startedAt: [...w.startedAt] } satisfies Reply),
      (e: Error) => port.postMessage({ id: m.id, error: e.message, counts: w.counts, startedAt: [...w.startedAt] } satisfies Reply),
    );
  });
}

/** Writer's interface, run on its own thread: counts and startedAt are as of the last call's answer. */
export class ThreadWriter {
  counts: WriterCounts = { inserted: {}, updated: {}, errors: 0, firstError: null };
  startedAt: number[] = [];
  private readonly thread: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(url: string) {
    this.thread = new Worker(__filename, { workerData: { writerUrl: url } });
    this.thread.on('message', (r: Reply) => {
      this.counts = r.counts;
      this.startedAt = r.startedAt;
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (r.error !== undefined) w?.reject(new Error(`writer: ${r.error}`));
      else w?.resolve(r.result);
    });
    this.thread.on('error', (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
  }

  private call<T>(cmd: Command, arg?: number): Promise<T> {
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.thread.postMessage({ id, cmd, arg } satisfies Call);
    });
  }

  open(): Promise<void> {
    return this.call('open');
  }
  sample(ms: number): Promise<number[]> {
    return this.call('sample', ms);
  }
  start(): Promise<void> {
    return this.call('start');
  }
  stop(): Promise<number[]> {
    return this.call('stop');
  }
  verify(): Promise<string[]> {
    return this.call('verify');
  }
  async close(): Promise<void> {
    await this.call('close').catch(() => undefined);
    await this.thread.terminate();
  }
}
