// npm run bench:load [-- --users 50] — fifty people /draft at once, half on Discord and half on Slack, through the real
// discord.js and bolt adapters against the test fakes on 127.0.0.1, one runtime (one queue) on the shipped mini model.
// The fakes and the people run in a forked process (bench/load-driver.ts), so their work and their clocks stay off the
// bot's event loop. Reports per platform: ack latency (Discord: interaction dispatched → deferral received; Slack:
// slash command posted → bolt's HTTP 200), time to the first message the user sees about the job and to its first
// status edit, and how every job ended (delivered, refused, or lost — which must be none). Prints one JSON object.
import { fork } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startDiscordAdapter } from '../src/bots/discord/index.ts';
import { startSlackAdapter } from '../src/bots/slack/index.ts';
import { startTestRuntime } from '../test/e2e/support/test-runtime.ts';
import type { DriverReady } from './load-driver.ts';

const GOAL_P99_MS = 100;
const { values: args } = parseArgs({ options: { users: { type: 'string', default: '50' }, timeout: { type: 'string', default: '600' } } });

const driver = fork(new URL('./load-driver.ts', import.meta.url), [args.users, args.timeout], { execArgv: ['--import', 'tsx'] });
const ready = await new Promise<DriverReady>((resolve) => driver.once('message', (message) => resolve(message as DriverReady)));
const runtime = await startTestRuntime({
  model: 'mini',
  statusIntervalMs: 2000,
  logLevel: 'error',
  config: {
    discord: { token: ready.discord.token, apiBase: ready.discord.apiBase, guildId: ready.discord.guildId },
    slack: { botToken: ready.slack.botToken, signingSecret: ready.slack.secret, apiUrl: ready.slack.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 },
    queue: { maxWaitingTotal: 500 },
    devices: [{ name: 'cpu0', provider: 'cpu', threads: 0, deviceId: 0 }],
  },
});
const discordAdapter = await startDiscordAdapter(runtime);
const slackAdapter = await startSlackAdapter(runtime);
const result = new Promise<Record<string, unknown> & { ackMs: { p99?: number }; lost: number }>((resolve) => driver.once('message', (message) => resolve(message as never)));
// The bot's own event loop while the fifty arrive and are served: a stall here delays every ack behind it.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
driver.send({ type: 'go', endpoint: `http://127.0.0.1:${slackAdapter.port}/slack/events` });
const { type: _type, lost, ...figures } = await result;
loopDelay.disable();
const loopMs = (ns: number): number => Math.round(ns / 1e4) / 100;

process.stdout.write(
  `${JSON.stringify({
    benchmark: 'load',
    users: Number(args.users),
    model: runtime.engine.models.draft.name,
    cpus: cpus().length,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    ...figures,
    eventLoopDelayMs: { p50: loopMs(loopDelay.percentile(50)), p99: loopMs(loopDelay.percentile(99)), max: loopMs(loopDelay.max) },
    goal: { ackP99Ms: GOAL_P99_MS, met: (figures.ackMs.p99 ?? Infinity) < GOAL_P99_MS, noneLost: lost === 0 },
  })}\n`,
);
await discordAdapter.stop();
await slackAdapter.stop();
await runtime.close();
process.exitCode = lost === 0 ? 0 : 1;
