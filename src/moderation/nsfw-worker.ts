import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { loadBundledModel, useWasmBackend, type LoadedNsfwModel } from './nsfw-model.ts';
import type { FromNsfwWorker, NsfwWorkerBoot, ToNsfwWorker } from './nsfw-protocol.ts';

/**
 * The classifier thread: wasm inference is synchronous and would stall the main thread's event loop (Discord
 * heartbeats, Slack acks) for tens of milliseconds per image, so it runs here, one image at a time.
 */
const boot = (workerData as { boot: NsfwWorkerBoot }).boot;
const port = parentPort!;
const send = (message: FromNsfwWorker): void => port.postMessage(message);

let model: LoadedNsfwModel;
try {
  const started = performance.now();
  await useWasmBackend();
  model = await loadBundledModel(boot.model, { execution: boot.execution });
  // The first run packs the weights into XNNPACK's layout (~120 ms on MobileNetV2): paid here, not by a user's image.
  await model.classify(new Uint8Array(model.inputSize ** 2 * 3));
  send({
    type: 'ready',
    backend: tf.getBackend(),
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
