import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority. On Linux niceness belongs to each thread, and the threads this one starts
 * afterwards (onnxruntime's intra-op pool, created with the session) inherit it. So when a model computes on the CPU,
 * the main thread — every chat adapter's acks, button presses and status edits — still gets a core at once instead of
 * waiting behind the model. Elsewhere (macOS, Windows) it does nothing: their priorities are per process. Returns
 * whether it took effect.
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/thread-self names the calling thread: "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, niceness);
    return true;
  } catch {
    // A sandbox without /proc, or a priority the system will not let us set: run at the normal priority.
    return false;
  }
}
