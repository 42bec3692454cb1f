// A worker for thread-priority.test.ts: lowers itself with the engine's function, then starts a thread of its own (as
// onnxruntime starts its pool after the worker lowered itself) and reports what Linux says of both.
import { readFileSync } from 'node:fs';
import { parentPort, Worker } from 'node:worker_threads';
import { lowerThreadPriority } from '../../src/engine/worker/thread-priority.ts';

const NICE_OF_THIS_THREAD = "Number(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16])";

const took = lowerThreadPriority(10);
const own = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[16]);
const child = new Worker(`require('node:worker_threads').parentPort.postMessage(${NICE_OF_THIS_THREAD})`, { eval: true });
child.once('message', (inherited: number) => {
  parentPort!.postMessage({ took, own, inherited });
  void child.terminate();
});
