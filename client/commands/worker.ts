// `cutover worker`: runs a worker on task queue `cutover` until SIGINT/SIGTERM.
import { TASK_QUEUE } from '../../common/temporal';
import { CodecError } from '../../common/codec';
import { badInput, TemporalUnreachableError } from '../errors';
import type { CommandContext } from './context';

export async function worker(ctx: CommandContext): Promise<void> {
  const { address, namespace } = ctx.temporal.settings;
  // With JSON logs every line is one object: the worker logs its own start (worker/run.ts).
  if ((process.env.CUTOVER_LOG_FORMAT ?? '').toLowerCase() !== 'json')
    ctx.io.err(`cutover worker: connecting to Temporal at ${address} (namespace ${namespace}), task queue ${TASK_QUEUE}; Ctrl-C to stop`);
  const { runWorker } = await import('../../worker/run');
  try {
    await runWorker();
  } catch (err) {
    if (err instanceof CodecError) throw badInput(err.message); // a malformed CUTOVER_CODEC_KEYS
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && (err.name === 'TransportError' || /connect|unavailable|transport/i.test(message))) {
      throw new TemporalUnreachableError(address, namespace, message);
    }
    throw err;
  }
}
