import { parentPort, workerData } from 'node:worker_threads';
import { engineError, EngineFailure, isEngineError, type EngineError } from '../errors.ts';
import { PipelineCancelled, type CreatePipeline, type Pipeline } from '../pipeline.ts';
import type { FromWorker, ToWorker, WorkerBoot } from './protocol.ts';
import { lowerThreadPriority } from './thread-priority.ts';

/** The inference thread: loads the pipeline once, then runs one job at a time for the main thread. */
const boot = (workerData as { boot: WorkerBoot }).boot;
const port = parentPort!;
const cancelFlag = new Int32Array(boot.cancelBuffer);
const send = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineFailure) return error.error;
  if (isEngineError(error)) return error;
  return engineError('model-error', `Inference failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** Below the main thread, so a model computing on the CPU never holds up the chat adapters' answers. */
const INFERENCE_NICENESS = 10;

let pipeline: Pipeline;
try {
  // Before the pipeline exists: onnxruntime's threads, started with its sessions, inherit this thread's priority.
  lowerThreadPriority(INFERENCE_NICENESS);
  const module = (await import(boot.pipelineModule)) as { createPipeline?: CreatePipeline };
  if (typeof module.createPipeline !== 'function') throw new Error(`${boot.pipelineModule} does not export createPipeline`);
  pipeline = await module.createPipeline({
    device: boot.device,
    options: boot.pipelineOptions,
    log: (level, message, detail) => send(detail === undefined ? { type: 'log', level, message } : { type: 'log', level, message, detail }),
  });
  send({ type: 'ready', provider: boot.device.provider });
} catch (error) {
  send({ type: 'init-failed', error: toEngineError(error) });
  process.exit(1);
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'shutdown') {
    void pipeline.dispose().finally(() => process.exit(0));
    return;
  }
  const { run, spec } = message;
  const cancelled = (): boolean => Atomics.load(cancelFlag, 0) === run;
  pipeline
    .run(spec, {
      cancelled,
      onProgress: (step, total, preview) =>
        preview ? send({ type: 'progress', run, step, total, preview }, [preview.data.buffer as ArrayBuffer]) : send({ type: 'progress', run, step, total }),
    })
    .then(
      (output) => {
        // Hand the pixel buffers over instead of copying them.
        const transfer = output.candidates.map((c) => c.data.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
        send({ type: 'done', run, output }, [...new Set(transfer)]);
      },
      (error: unknown) => {
        if (error instanceof PipelineCancelled) send({ type: 'cancelled', run });
        else send({ type: 'failed', run, error: toEngineError(error) });
      },
    );
});
