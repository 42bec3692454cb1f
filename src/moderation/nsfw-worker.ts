import { parentPort, workerData } from 'node:worker_threads';
import type { FromNsfwWorker, LoadNsfwRunner, NsfwRunner, NsfwWorkerBoot, ToNsfwWorker } from './nsfw-protocol.ts';

/**
 * The classifier thread: onnxruntime's session.run computes on the calling thread and would stall the main
 * thread's event loop (Discord heartbeats, Slack acks) for milliseconds per image, so it runs here, one image at a time.
 */
const boot = (workerData as { boot: NsfwWorkerBoot }).boot;
const port = parentPort!;
const send = (message: FromNsfwWorker): void => port.postMessage(message);

let model: NsfwRunner;
try {
  const started = performance.now();
  const { loadNsfwRunner } = (await import(boot.runner)) as { loadNsfwRunner: LoadNsfwRunner };
  model = await loadNsfwRunner(boot.model);
  // The first run packs the weights into the kernels' layouts: paid here, not by a user's image.
  await model.classify(new Uint8Array(model.inputSize ** 2 * 3));
  send({ type: 'ready', backend: model.backend, inputSize: model.inputSize, loadMs: Math.round(performance.now() - started), execution: model.execution });
} catch (error) {
  send({ type: 'init-failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// Messages are handled strictly one after another: the main thread sends the next image only after a verdict.
port.on('message', (message: ToNsfwWorker) => {
  if (message.type === 'exit') process.exit(0);
  model.classify(message.pixels).then(
    (scores) => send({ type: 'scores', id: message.id, scores }),
    (error: unknown) => send({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
