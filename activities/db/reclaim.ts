// Bounded memory for long COPY streams. Every socket read of a COPY arrives as its own Buffer, and V8
// frees a Buffer's memory only when its small JS wrapper is collected: under a steady stream that
// happens late (V8's external-memory heuristics, not the JS heap, trigger it), so the stage step's peak
// RSS grew with the volume it copied (1.39× from N to 10·N subjects). A young-generation collection
// (a scavenge: about a millisecond) every RECLAIM_BYTES copied frees them as they go.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const RECLAIM_BYTES = 2 * 1024 * 1024;

type Gc = (opts?: { type: 'minor' | 'major' }) => void;

/** The engine's gc(), obtained once without leaving it exposed to contexts created later (workflow sandboxes). */
function engineGc(): Gc | null {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Gc;
  } catch {
    return null; // an engine without it: memory is then bounded by V8's own heuristics only
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

let gc: Gc | null | undefined;
let pending = 0;

/** Count bytes that went through a COPY stream; scavenge each time RECLAIM_BYTES have passed (all streams together). */
export function copied(bytes: number): void {
  pending += bytes;
  if (pending < RECLAIM_BYTES) return;
  pending = 0;
  if (gc === undefined) gc = engineGc();
  gc?.({ type: 'minor' });
}
