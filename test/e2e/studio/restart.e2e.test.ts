import { afterAll, describe, expect, it } from 'vitest';
import type { DeliveryEnvelope } from '../../../src/bots/core/core.ts';
import { startStudio, type StudioAdapter, type StudioDelivery } from '../../../src/bots/studio/index.ts';
import { JobJournal } from '../../../src/engine/journal/journal.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { cardIds, imagesLoaded, launchChromium, nextFinishedCard, openTab, send, START_TIMEOUT_MS, TEST_TIMEOUT_MS, WAIT, type StudioBrowser } from './browser.ts';

/**
 * A restart: the studio's jobs that were waiting or running when the process died are re-attached by `resume`, so
 * an open tab sees their cards finish; the history (candidates from the stored files, grids recomposed from them) survives.
 */
const started: { runtime: Runtime; studio: StudioAdapter }[] = [];
let chromium: StudioBrowser | undefined;

afterAll(async () => {
  await chromium?.close();
  for (const { runtime, studio } of started.reverse()) {
    await studio.stop();
    await runtime.close();
  }
}, START_TIMEOUT_MS);

async function start(dataDir?: string): Promise<{ runtime: Runtime; studio: StudioAdapter }> {
  const runtime = await startTestRuntime({ config: { studio: { port: 0 }, ...(dataDir ? { dataDir } : {}) } });
  const studio = await startStudio(runtime);
  const pair = { runtime, studio };
  started.push(pair);
  return pair;
}

describe('studio across a restart', () => {
  it('re-attaches a recovered studio job so its card finishes in the open tab, and keeps the history', async () => {
    chromium = await launchChromium();
    const first = await start();
    const dataDir = first.runtime.config.dataDir;
    const tab = await openTab(chromium.browser, first.studio.url, 'Ada');
    await send(tab.page, '/draft a quiet lake --seed 3 --count 2');
    const done = await nextFinishedCard(tab.page, [], 'draft');
    const finished = first.runtime.core.history.get(done)!;
    await tab.context.close();
    await first.studio.stop();
    await first.runtime.close();
    started.pop();

    // What a crash leaves behind: a studio job journaled as running, and one that was still waiting.
    const delivery: DeliveryEnvelope = { locale: 'en', place: { platform: 'studio', channelId: 'studio', channelIsNsfw: false }, data: { studio: 1 } satisfies StudioDelivery };
    const scope = { platform: 'studio', workspace: null, channel: 'studio' };
    const journal = new JobJournal(`${dataDir}/zimage.db`);
    const spec = { ...finished.spec, userPrompt: 'a quiet lake at night', seed: 11 };
    for (const id of ['crashRun01', 'crashWait1']) {
      journal.add({ id, owner: finished.owner, scope, spec, cost: finished.cost, delivery, policy: 'block', parentId: null });
    }
    journal.markRunning('crashRun01');
    // A job of another platform is not the studio's to resume.
    journal.add({ id: 'slackJob01', owner: { platform: 'slack', userId: 'U1' }, scope: { ...scope, platform: 'slack' }, spec, cost: finished.cost, delivery: { ...delivery, data: { channel: 'C1' } }, policy: 'block', parentId: null });
    journal.close();

    const second = await start(dataDir);
    expect(second.studio.resume(second.runtime.core.history.get('slackJob01')!)).toEqual({ resume: false, reason: 'not a studio job' });
    const reopened = await openTab(chromium.browser, second.studio.url, 'Ada');
    const page = reopened.page;
    // Before recovery: the history, and the two unfinished jobs as status cards.
    await expect.poll(() => cardIds(page), WAIT).toEqual([done, 'crashRun01', 'crashWait1']);
    expect(await page.locator('#job-crashRun01').getAttribute('data-state')).toBe('status');
    expect((await imagesLoaded(page, done, 'img.tile')).every((w) => w > 0)).toBe(true);
    // Its grid (the thumbnail of a reply to the whole result) is recomposed from the stored candidates.
    expect(await page.evaluate(async (url) => (await fetch(url)).status, `/media/${done}/grid.png`)).toBe(200);

    // main.ts does this at start-up, asking each adapter about its platform's jobs.
    const { resumed, failed } = second.runtime.engine.recover((record) =>
      record.owner.platform === 'studio' ? second.studio.resume(record) : { resume: false, reason: 'slack is not running' },
    );
    expect(resumed.map((h) => h.id).sort()).toEqual(['crashRun01', 'crashWait1']);
    expect(failed.map((r) => r.id)).toEqual(['slackJob01']);
    for (const id of ['crashRun01', 'crashWait1']) {
      await expect.poll(() => page.locator(`#job-${id}`).getAttribute('data-state'), WAIT).toBe('result');
      expect((await imagesLoaded(page, id, 'img.tile')).every((w) => w > 0)).toBe(true);
      expect(await page.locator(`#job-${id} .prompt`).textContent()).toBe('a quiet lake at night');
    }
    await reopened.context.close();
  }, TEST_TIMEOUT_MS);
});
