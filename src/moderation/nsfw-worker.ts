import { parentPort, workerData } from 'node:worker_threads';
import { loadNsfwModel } from './nsfw-onnx.ts';
import type { FromNsfwWorker, NsfwRunner, NsfwWorkerBoot, ToNsfwWorker } from './nsfw-protocol.ts';

/**
 * The classifier thread: inference is synchronous and would stall the main thread's event loop (Discord
 * heartbeats, Slack acks) for milliseconds per image, so it runs here, one image at a time.
 */
const boot = (workerData as { boot: NsfwWorkerBoot }).boot;
const port = parentPort!;
const send = (message: FromNsfwWorker): void => port.postMessage(message);

async function load(): Promise<NsfwRunner & { foldedBatchNorms: number; fusedLayers: number }> {
  if (boot.execution === 'onnx') return { ...(await loadNsfwModel(boot.model)), foldedBatchNorms: 0, fusedLayers: 0 };
  // Imported only for the tfjs executions, so the ONNX thread's start-up does not pay for tfjs.
  const [tf, { loadBundledModel, useWasmBackend }] = await Promise.all([import('@tensorflow/tfjs'), import('./nsfw-model.ts')]);
  await useWasmBackend();
  const model = await loadBundledModel(boot.model, { execution: boot.execution });
  return { ...model, backend: tf.getBackend() };
}

let model: Awaited<ReturnType<typeof load>>;
try {
  const started = performance.now();
  model = await load();
  // The first run packs the weights into the kernels' layouts: paid here, not by a user's image.
  await model.classify(new Uint8Array(model.inputSize ** 2 * 3));
  send({
    type: 'ready',
    backend: model.backend,
    inputSize: model.inputSize,
    loadMs: Math.round(performance.now() - started),
    execution: model.execution,
    foldedBatchNorms: model.foldedBatchNorms,
    fusedLayers: model.fusedLayers,
  });
} catch (error) {
  send({ type: 'init-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// Messages are handled strictly one after another: the main thread sends the next image only after a verdict.
port.on('message', (message: ToNsfwWorker) => {
  model.classify(message.pixels).then(
    (scores) => send({ type: 'scores', id: message.id, scores }),
    (error: unknown) => send({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
