// The bot before the "crash", for the restart test: a process with its own runtime and Discord adapter against the
// fake, with other users' long jobs queued so the drafts the test sends stay waiting. It prints `ready`, pauses
// its adapter when told `pause` on stdin (printing `paused`), and is then killed with SIGKILL.
import { createInterface } from 'node:readline';
import { startDiscordAdapter } from '../../../src/bots/discord/index.ts';
import { startTestRuntime } from '../support/test-runtime.ts';

const [dataDir, apiBase, token, guildId] = process.argv.slice(2) as [string, string, string, string];
const runtime = await startTestRuntime({
  statusIntervalMs: 100,
  config: { dataDir, discord: { token, apiBase, guildId }, profiles: { draft: { maxSteps: 50 } }, queue: { maxWaitingPerUser: 20 } },
});
await startDiscordAdapter(runtime);
for (let i = 0; i < 8; i++) {
  await runtime.engine.submit({ role: 'draft', owner: { platform: 'load', userId: `u${i}` }, prompt: `blocker ${i}`, count: 4, steps: 50, width: 256, height: 256 });
}
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'pause') {
    runtime.core.pause();
    process.stdout.write('paused\n');
  }
}
