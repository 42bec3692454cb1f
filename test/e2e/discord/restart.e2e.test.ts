import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordAdapter, type DiscordAdapter } from '../../../src/bots/discord/index.ts';
import { errorText } from '../../../src/bots/core/texts.ts';
import { join } from 'node:path';
import type { JobRecord } from '../../../src/engine/history.ts';
import { JobJournal } from '../../../src/engine/journal/journal.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { tempDir } from '../../support/fakes.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeDiscord } from './fake-discord.ts';
import { callbackTypes, privateReply, resultOf, statusCardOf } from './fake-helpers.ts';

/**
 * A restart: the bot process dies (SIGKILL) with jobs waiting; the next process finds them in the journal, asks
 * the adapter, and the job's status card continues through the same interaction token. A job that cannot be
 * recovered is reported in its card.
 */
const CHILD = fileURLToPath(new URL('./bot-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let fake: FakeDiscord;
let child: ChildProcessWithoutNullStreams | undefined;
let adapter: DiscordAdapter | undefined;
let runtime: Runtime | undefined;

beforeAll(async () => {
  fake = await FakeDiscord.start();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await adapter?.stop();
  await runtime?.close();
  await fake?.close();
});

/** Resolves when the child prints `line`. */
function printed(process: ChildProcessWithoutNullStreams, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      if (seen.split('\n').includes(line)) {
        process.stdout.off('data', onData);
        resolve();
      }
    };
    process.stdout.on('data', onData);
    process.once('exit', (code) => reject(new Error(`the bot process exited (${String(code)}) before printing "${line}"`)));
  });
}

describe('discord adapter across a restart', () => {
  it('pauses, then resumes a waiting job in its card after a restart and reports a lost one', async () => {
    const dataDir = tempDir('zimage-discord-restart-');
    child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, fake.apiBase, fake.token, fake.guildId], { cwd: ROOT });
    await printed(child, 'ready');
    const kept = fake.slash('draft', { prompt: 'a patient owl' });
    const lost = fake.slash('draft', { prompt: 'a forgotten key' }, { locale: 'zh-CN', user: fake.bob });
    const keptCard = await statusCardOf(fake, kept.token);
    const lostCard = await statusCardOf(fake, lost.token);

    // Paused (SIGTERM's first step): new commands are refused privately. Then the process dies without draining.
    child.stdin.write('pause\n');
    await printed(child, 'paused');
    const late = fake.slash('draft', { prompt: 'too late' });
    expect(await privateReply(fake, late.token)).toBe(errorText('en', { code: 'shutting-down', message: '' }));
    expect(callbackTypes(fake, late.token)).toEqual([4]);
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    // A job an earlier process finished long ago, whose interaction token it never dropped.
    const stale = 'aW50ZXJhY3Rpb24ubGVmdC5iZWhpbmQ';
    const previous = new JobJournal(join(dataDir, 'zimage.db'));
    const old = previous.get(keptCard.jobId)!;
    const oldEnvelope = old.delivery as { data: { interaction: object } };
    previous.add({
      id: 'staletoken1',
      owner: old.owner,
      scope: old.scope,
      spec: old.spec,
      cost: old.cost,
      delivery: { ...oldEnvelope, data: { ...oldEnvelope.data, interaction: { applicationId: fake.appId, token: stale, createdAt: Date.now() - 20 * 60_000 } } },
      policy: 'block',
      parentId: null,
    });
    previous.finish('staletoken1', 'failed', { error: { code: 'internal', message: 'old' } });
    previous.close();

    runtime = await startTestRuntime({ statusIntervalMs: 100, config: { dataDir, discord: { token: fake.token, apiBase: fake.apiBase, guildId: fake.guildId } } });
    adapter = await startDiscordAdapter(runtime);
    // Start-up drops it: the file keeps no credential that has expired.
    expect(JSON.stringify(runtime.core.history.get('staletoken1')!.delivery)).not.toContain(stale);
    const started = adapter;
    const { resumed, failed } = runtime.engine.recover((record: JobRecord) =>
      record.owner.platform !== 'discord' ? { resume: false, reason: 'load' } : record.id === lostCard.jobId ? { resume: false, reason: 'test' } : started.resume(record),
    );
    expect(resumed.map((h) => h.id)).toEqual([keptCard.jobId]);
    const lostRecord = failed.find((r) => r.id === lostCard.jobId)!;
    await adapter.reportLost(lostRecord);

    const result = await resultOf(fake, kept.token);
    expect(result.id).toBe(keptCard.card.id);
    expect(runtime.core.history.get(keptCard.jobId)?.status).toBe('done');
    const lostText = errorText('zh-CN', lostRecord.error!);
    expect(lostText).toContain('机器人重启了');
    await fake.waitFor('the lost job reported in its card', () => fake.original(lost.token)?.content === lostText);
    expect(fake.original(lost.token)?.components).toEqual([]);
  });
});
