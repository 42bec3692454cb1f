// The load benchmark's other side (bench/load.ts forks it): the fake Discord and Slack, and the fifty people using
// them, in a process of their own so that their work and their measurements do not share the bot's event loop.
import { performance } from 'node:perf_hooks';
import { FakeDiscord } from '../test/e2e/discord/fake-discord.ts';
import { customIds } from '../test/e2e/discord/fake-helpers.ts';
import { FakeSlack } from '../test/e2e/slack/fake-slack.ts';
import { formBody, postSigned, slashCommandBody } from '../test/e2e/slack/slack-requests.ts';

export interface DriverReady {
  readonly type: 'ready';
  readonly discord: { readonly token: string; readonly apiBase: string; readonly guildId: string };
  readonly slack: { readonly botToken: string; readonly apiUrl: string; readonly secret: string };
}

const users = Number(process.argv[2] ?? 50);
const deadline = Date.now() + Number(process.argv[3] ?? 600) * 1000;
const SECRET = 'load-bench-signing-secret';

const round = (ms: number): number => Math.round(ms * 10) / 10;
function summary(values: readonly number[]): Record<string, number> {
  if (values.length === 0) return { n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1)!) };
}

async function until<T>(probe: () => T | undefined): Promise<T | undefined> {
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const discord = await FakeDiscord.start();
const slack = await FakeSlack.start({ botToken: 'xoxb-load-bench-0001', appToken: 'xapp-load-bench-0001' });
const endpoint = await new Promise<string>((resolve) => {
  process.once('message', (message: { type: string; endpoint: string }) => resolve(message.endpoint));
  process.send!({
    type: 'ready',
    discord: { token: discord.token, apiBase: discord.apiBase, guildId: discord.guildId },
    slack: { botToken: slack.botToken, apiUrl: slack.apiUrl, secret: SECRET },
  } satisfies DriverReady);
});

interface Sent {
  readonly platform: 'discord' | 'slack';
  readonly at: number;
  ackMs?: number;
  firstMs?: number;
  statusMs?: number;
  outcome?: 'delivered' | 'refused' | 'lost';
}

/** One job per platform first, waited for: the code paths the burst takes are loaded and compiled before it. */
async function warmUp(): Promise<void> {
  const interaction = discord.slash('draft', { prompt: 'warm-up --count 1' });
  const body = slashCommandBody({ command: '/draft', text: 'warm-up --count 1', user: 'UWARM', channel: 'CWARM', responseUrl: `${slack.base}/response/warm` }, slack.teamId);
  await postSigned(endpoint, formBody(body), 'application/x-www-form-urlencoded', { secret: SECRET });
  await until(() => {
    const message = discord.original(interaction.token);
    return message && customIds(message).some((id) => id.startsWith('z:refine:')) ? true : undefined;
  });
  await until(() => slack.calls.some((c) => c.method === 'chat.update' && c.args.channel === 'CWARM' && JSON.stringify(c.args.blocks ?? '').includes('z:reroll:')) || undefined);
}
await warmUp();

const sent: Sent[] = [];
const discordTokens = new Map<Sent, string>();
const slackChannels = new Map<Sent, string>();
const started = performance.now();
await Promise.all(
  Array.from({ length: users }, async (_, i) => {
    const prompt = `a red circle on a blue background, user ${i}`;
    if (i % 2 === 0) {
      const user = { id: String(500000000000000000n + BigInt(i)), username: `user${i}`, discriminator: '0', global_name: `User ${i}`, avatar: null };
      const entry: Sent = { platform: 'discord', at: performance.now() };
      const interaction = discord.slash('draft', { prompt }, { user });
      discordTokens.set(entry, interaction.token);
      sent.push(entry);
    } else {
      const channel = `C${String(i).padStart(6, '0')}`;
      const entry: Sent = { platform: 'slack', at: performance.now() };
      slackChannels.set(entry, channel);
      sent.push(entry);
      const body = slashCommandBody({ command: '/draft', text: prompt, user: `U${String(i).padStart(6, '0')}`, channel, responseUrl: `${slack.base}/response/r${i}` }, slack.teamId);
      const response = await postSigned(endpoint, formBody(body), 'application/x-www-form-urlencoded', { secret: SECRET });
      entry.ackMs = performance.now() - entry.at;
      if (response.status !== 200) entry.outcome = 'lost';
    }
  }),
);

// Discord: the deferral, the first edit of the card, the result (or an ephemeral refusal).
await Promise.all(
  [...discordTokens].map(async ([entry, token]) => {
    const callback = await until(() => discord.callbacks(token)[0]);
    if (callback) entry.ackMs = callback.at - entry.at;
    if ((callback?.json as { type?: number } | undefined)?.type === 4) {
      entry.outcome = 'refused';
      return;
    }
    entry.firstMs = entry.ackMs;
    const edit = await until(() => discord.webhookRequests(token).find((r) => r.method === 'PATCH'));
    if (edit) entry.statusMs = edit.at - entry.at;
    const done = await until(() => {
      const message = discord.original(token);
      if (message && customIds(message).some((id) => id.startsWith('z:refine:'))) return 'delivered' as const;
      if (discord.webhookRequests(token).some((r) => r.method === 'POST' && (((r.json as { flags?: number }).flags ?? 0) & 64) !== 0)) return 'refused' as const;
      return undefined;
    });
    entry.outcome = done ?? 'lost';
  }),
);

// Slack: the job's card (its first message), the card's first status edit, the result on it (or a private refusal).
await Promise.all(
  [...slackChannels].map(async ([entry, channel]) => {
    if (entry.outcome) return;
    const card = await until(() => slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === channel));
    if (!card) {
      const refusal = slack.responses.some((r) => r.id === `r${sent.indexOf(entry)}`);
      entry.outcome = refusal ? 'refused' : 'lost';
      return;
    }
    entry.firstMs = card.at - entry.at;
    const ts = String(card.result?.ts ?? '');
    const update = await until(() => slack.calls.find((c) => c.method === 'chat.update' && c.args.channel === channel && c.args.ts === ts));
    if (update) entry.statusMs = update.at - entry.at;
    const result = await until(() => (slack.message(channel, ts)?.blocks ?? []).some((b) => JSON.stringify(b).includes('z:reroll:')) || undefined);
    entry.outcome = result ? 'delivered' : 'lost';
  }),
);
const wallMs = performance.now() - started;

const byPlatform = (platform: Sent['platform']): Record<string, unknown> => {
  const entries = sent.filter((e) => e.platform === platform);
  const defined = (values: (number | undefined)[]): number[] => values.filter((v): v is number => v !== undefined);
  return {
    jobs: entries.length,
    ackMs: summary(defined(entries.map((e) => e.ackMs))),
    firstMessageMs: summary(defined(entries.map((e) => e.firstMs))),
    firstStatusEditMs: summary(defined(entries.map((e) => e.statusMs))),
    delivered: entries.filter((e) => e.outcome === 'delivered').length,
    refused: entries.filter((e) => e.outcome === 'refused').length,
    lost: entries.filter((e) => e.outcome !== 'delivered' && e.outcome !== 'refused').length,
  };
};
const allAcks = sent.map((e) => e.ackMs).filter((v): v is number => v !== undefined);
const acks = summary(allAcks);
const lost = sent.filter((e) => e.outcome !== 'delivered' && e.outcome !== 'refused').length;
process.send!({
  type: 'result',
  wallMs: Math.round(wallMs),
  ackMs: acks,
  lost,
  discord: byPlatform('discord'),
  slack: byPlatform('slack'),
});


await discord.close();
await slack.close();
