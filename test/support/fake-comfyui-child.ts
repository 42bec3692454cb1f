import { FakeComfyUI, type FakeComfyOptions } from './fake-comfyui.ts';

/**
 * A fake ComfyUI in a process of its own (for the benchmark, so its work and its memory are not the bot's): the
 * options come as JSON in argv[2], its port goes to the parent over IPC, `{ stepMs }` changes its speed, `{ pause }` holds or releases its queue.
 */
const fake = await FakeComfyUI.start(JSON.parse(process.argv[2] ?? '{}') as FakeComfyOptions);
process.on('message', (message: { stepMs?: number; executions?: boolean; pause?: boolean }) => {
  if (message.stepMs !== undefined) fake.stepMs = message.stepMs;
  if (message.pause === true) fake.pause();
  if (message.pause === false) fake.resume();
  if (message.executions) process.send?.({ executions: fake.executions.splice(0) });
});
process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
process.send?.({ port: fake.port });
