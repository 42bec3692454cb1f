import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStudio, type StudioAdapter } from '../../../src/bots/studio/index.ts';
import { errorText } from '../../../src/bots/core/texts.ts';
import type { JobRecord } from '../../../src/engine/history.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import {
  cardIds,
  ephemeralTexts,
  imagesLoaded,
  launchChromium,
  nextFinishedCard,
  openTab,
  pageProblems,
  rename,
  send,
  START_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  WAIT,
  welcomed,
  type SeenStatus,
  type StudioBrowser,
} from './browser.ts';

/**
 * The studio end to end: real headless Chromium on the real page, the real runtime (engine, ONNX pipelines on the
 * oracle fixture model, nsfwjs, SQLite journal) behind it. The fixture makes a job take well under a second, so
 * status cards are checked through a recorder of what the page rendered rather than by watching the clock.
 */
let runtime: Runtime;
let studio: StudioAdapter;
let chromium: StudioBrowser;

beforeAll(async () => {
  runtime = await startTestRuntime({ config: { studio: { port: 0 } } });
  studio = await startStudio(runtime);
  chromium = await launchChromium();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await chromium?.close();
  await studio?.stop();
  await runtime?.close();
}, START_TIMEOUT_MS);

const journal = (): Runtime['core']['history'] => runtime.core.history;

describe('studio in a browser', () => {
  it('drafts with live status, refines, edits by reply with a painted mask, edits an upload, and keeps the history', async () => {
    const { page, context } = await openTab(chromium.browser, studio.url, 'Ada');
    try {
      // /draft with inline flags: status cards while it runs, then the grid and the same buttons as on Discord.
      await send(page, '/draft a red fox --seed 42 --steps 12');
      const draft = await nextFinishedCard(page, [], 'draft');
      const draftCard = page.locator(`#job-${draft}`);
      expect(await draftCard.getAttribute('data-state')).toBe('result');
      // Each candidate once, as a tile (no grid image repeating them).
      const tiles = await imagesLoaded(page, draft, 'img.tile');
      expect(tiles).toHaveLength(4);
      expect(tiles.every((w) => w > 0)).toBe(true);
      expect(await draftCard.locator('img.grid').count()).toBe(0);
      expect(await draftCard.locator('figure .tile-number').allTextContents()).toEqual(['1', '2', '3', '4']);
      const draftRecord = journal().get(draft)!;
      expect(draftRecord.owner).toMatchObject({ platform: 'studio', name: 'Ada' });
      expect(draftRecord.spec).toMatchObject({ seed: 42, steps: 12, userPrompt: 'a red fox' });
      // One button per candidate for Refine; the rest in the card's menu.
      expect(await draftCard.locator('button[data-button-id]').allTextContents()).toEqual(['Refine 1', 'Refine 2', 'Refine 3', 'Refine 4']);
      const options = await draftCard.locator('select.menu option[value^="z:"]').allTextContents();
      expect(options).toEqual(expect.arrayContaining(['Vary 2 · subtle', 'Vary 3 · strong', 'Reroll', 'Delete']));
      expect(await draftCard.locator('.footer').textContent()).toContain(`seed 42 · 12 steps`);

      const seen = (await page.evaluate(() => (window as unknown as { __seenStatus: SeenStatus[] }).__seenStatus)).filter((s) => s.jobId === draft);
      expect(seen.some((s) => s.text.startsWith('Queued'))).toBe(true);
      const running = seen.filter((s) => s.total === 12 && s.step !== null && s.step >= 1);
      expect(running.length).toBeGreaterThan(0);
      expect(running.every((s) => /^Drafting · (step \d+\/12|finishing)/.test(s.text))).toBe(true);

      // Refine 1: a new card for the refine job, from the first candidate.
      let before = await cardIds(page);
      await draftCard.locator(`button[data-button-id="z:refine:${draft}:0"]`).click();
      const refine = await nextFinishedCard(page, before, 'refine');
      expect(await page.locator(`#job-${refine}`).getAttribute('data-state')).toBe('result');
      expect((await imagesLoaded(page, refine, 'img.tile'))[0]).toBeGreaterThan(0);
      expect(await page.locator(`#job-${refine} .parent`).textContent()).toContain(draft);
      expect(journal().get(refine)).toMatchObject({ role: 'refine', parentId: draft, status: 'done' });

      // Reply to candidate 2 and paint a mask over its left half: an edit with a PNG mask, white = change.
      before = await cardIds(page);
      await draftCard.locator('figure[data-index="1"] button.reply').click();
      expect(await page.locator('#attachment-label').textContent()).toContain(draft);
      await page.click('#paint-mask');
      const canvas = page.locator('#mask-canvas');
      await canvas.waitFor({ state: 'visible' });
      const box = (await canvas.boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.15, box.y + box.height * 0.2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.8, { steps: 8 });
      await page.mouse.up();
      await page.click('#mask-done');
      await page.locator('#mask-state').waitFor({ state: 'visible' });
      await send(page, 'make it blue');
      const edit = await nextFinishedCard(page, before, 'edit');
      expect(await page.locator(`#job-${edit}`).getAttribute('data-state')).toBe('result');
      expect((await imagesLoaded(page, edit, 'img.tile'))[0]).toBeGreaterThan(0);
      const editRecord = journal().get(edit)!;
      expect(editRecord.parentId).toBe(draft);
      expect(editRecord.spec.image).toBe(draftRecord.result!.images[1]!.path);
      expect(editRecord.spec.mask?.kind).toBe('image');
      const maskPath = editRecord.spec.mask?.kind === 'image' ? editRecord.spec.mask.path : '';
      const mask = await sharp(maskPath).greyscale().raw().toBuffer({ resolveWithObject: true });
      expect([mask.info.width, mask.info.height]).toEqual([draftRecord.spec.width, draftRecord.spec.height]);
      const white = mask.data.filter((v) => v > 200).length;
      const black = mask.data.filter((v) => v < 50).length;
      expect(white).toBeGreaterThan(0);
      expect(black).toBeGreaterThan(white);
      // Painted on the left: the right edge stays black.
      const rightColumn = Array.from({ length: mask.info.height }, (_, y) => mask.data[y * mask.info.width + mask.info.width - 1]!);
      expect(Math.max(...rightColumn)).toBeLessThan(50);

      // A file that is not an image is refused early, in this tab only, and nothing is queued.
      before = await cardIds(page);
      await page.setInputFiles('#file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('just some text, not a PNG') });
      await send(page, '/edit add a sun');
      await expect.poll(() => ephemeralTexts(page), WAIT).toContain(errorText('en', { code: 'unsupported-attachment' }));
      expect(await cardIds(page)).toEqual(before);

      // Our own image: /edit with an uploaded PNG.
      // Attached from the keyboard: Image… is a button that opens the file chooser.
      const upload = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 240, g: 140, b: 20 } } }).png().toBuffer();
      const chooser = page.waitForEvent('filechooser');
      await page.focus('#attach');
      await page.keyboard.press('Enter');
      await (await chooser).setFiles({ name: 'mine.png', mimeType: 'image/png', buffer: upload });
      expect(await page.locator('#attachment-label').textContent()).toContain('mine.png');
      await send(page, '/edit add a sun --strength 0.5');
      const uploaded = await nextFinishedCard(page, before, 'edit');
      expect(await page.locator(`#job-${uploaded}`).getAttribute('data-state')).toBe('result');
      expect((await imagesLoaded(page, uploaded, 'img.tile'))[0]).toBeGreaterThan(0);
      const uploadedRecord = journal().get(uploaded)!;
      expect(uploadedRecord.spec.image).toMatch(/[/\\]inputs[/\\]/);
      expect(uploadedRecord.spec).toMatchObject({ strength: 0.5, userPrompt: 'add a sun' });

      // Bad flags: one clear message, here only, and nothing changes.
      before = await cardIds(page);
      await send(page, '/draft a cat --seed banana');
      await expect.poll(() => ephemeralTexts(page), WAIT).toContain(
        errorText('en', { code: 'not-a-number', params: { flag: '--seed', value: 'banana', kind: 'integer' } }),
      );
      expect(await cardIds(page)).toEqual(before);

      // Reload: the history comes back from the journal, in order, with its images.
      const ids = await cardIds(page);
      await page.reload();
      await page.waitForSelector('#connection[data-state="connected"]');
      await expect.poll(() => cardIds(page), WAIT).toEqual(ids);
      for (const id of [draft, refine, edit, uploaded]) {
        expect(await page.locator(`#job-${id}`).getAttribute('data-state')).toBe('result');
      }
      expect((await imagesLoaded(page, draft, 'img.tile')).every((w) => w > 0)).toBe(true);
      expect(await page.locator(`#job-${draft} button[data-button-id="z:refine:${draft}:0"]`).textContent()).toBe('Refine 1');
      expect(await page.locator('.ephemeral').count()).toBe(0);
      // The browser logs the refused upload (415) itself; nothing else may have gone wrong on the page.
      expect(pageProblems(page).filter((p) => !p.includes('status of 415'))).toEqual([]);
    } finally {
      await context.close();
    }
  }, TEST_TIMEOUT_MS);

  it('two tabs are two users on one queue: both see every card, in the asker\'s language; refusals stay in the tab that asked', async () => {
    const ada = await openTab(chromium.browser, studio.url, 'Ada');
    const lei = await openTab(chromium.browser, studio.url, '李雷', 'zh-CN');
    try {
      expect(await lei.page.locator('#send').textContent()).toBe('发送');
      const beforeAda = await cardIds(ada.page);
      await Promise.all([send(ada.page, '/draft a green field --count 2 --steps 16'), send(lei.page, '/draft 一片蓝色的海 --count 2 --steps 16')]);
      const newJobs = (): JobRecord[] => journal().recent({ limit: 10, platform: 'studio' }).filter((r) => !beforeAda.includes(r.id));
      await expect.poll(() => newJobs().length, WAIT).toBe(2);
      const adaJob = newJobs().find((r) => r.owner.name === 'Ada')!.id;
      const leiJob = newJobs().find((r) => r.owner.name === '李雷')!.id;
      // One queue, two users.
      const adaRecord = journal().get(adaJob)!;
      const leiRecord = journal().get(leiJob)!;
      expect(adaRecord.owner).toMatchObject({ platform: 'studio', name: 'Ada' });
      expect(leiRecord.owner).toMatchObject({ platform: 'studio', name: '李雷' });
      expect(adaRecord.owner.userId).not.toBe(leiRecord.owner.userId);

      // Each tab shows both cards, finished, with the asker's name and language.
      for (const page of [ada.page, lei.page]) {
        await expect.poll(() => page.locator(`#job-${leiJob}`).getAttribute('data-state'), WAIT).toBe('result');
        await expect.poll(() => page.locator(`#job-${adaJob}`).getAttribute('data-state'), WAIT).toBe('result');
        expect(await page.locator(`#job-${adaJob} .author`).textContent()).toBe('Ada');
        expect(await page.locator(`#job-${leiJob} .author`).textContent()).toBe('李雷');
        expect(await page.locator(`#job-${adaJob} .footer`).textContent()).toContain('seed');
        expect(await page.locator(`#job-${leiJob} .footer`).textContent()).toContain('种子');
        expect(await page.locator(`#job-${leiJob} button[data-button-id="z:refine:${leiJob}:0"]`).textContent()).toBe('精修 1');
        // Each tab marks its own cards, told by the server (a tab never learns another tab's id).
        expect(await page.locator(`#job-${adaJob}`).getAttribute('data-mine')).toBe(String(page === ada.page));
        expect(await page.locator(`#job-${leiJob}`).getAttribute('data-mine')).toBe(String(page === lei.page));
      }
      const seen = (await lei.page.evaluate(() => (window as unknown as { __seenStatus: SeenStatus[] }).__seenStatus)).filter((s) => s.jobId === leiJob);
      expect(seen.some((s) => s.text.startsWith('排队中'))).toBe(true);

      // 李雷 presses Delete on Ada's result: refused, in Chinese, in 李雷's tab only.
      const adaEphemeral = (await ephemeralTexts(ada.page)).length;
      await lei.page.locator(`#job-${adaJob} select.menu`).selectOption(`z:delete:${adaJob}`);
      await expect.poll(() => ephemeralTexts(lei.page), WAIT).toContain(errorText('zh-CN', { code: 'not-owner' }));
      expect((await ephemeralTexts(ada.page)).length).toBe(adaEphemeral);
      expect(await ada.page.locator(`#job-${adaJob}`).count()).toBe(1);

      // Ada deletes her own: gone from both tabs, from the history, and its images are no longer served.
      await ada.page.locator(`#job-${adaJob} select.menu`).selectOption(`z:delete:${adaJob}`);
      await expect.poll(() => lei.page.locator(`#job-${adaJob}`).count(), WAIT).toBe(0);
      await expect.poll(() => ada.page.locator(`#job-${adaJob}`).count(), WAIT).toBe(0);
      await ada.page.reload();
      await ada.page.waitForSelector(`#job-${leiJob}`);
      expect(await ada.page.locator(`#job-${adaJob}`).count()).toBe(0);
      const gone = await ada.page.evaluate(async (id) => (await fetch(`/media/${id}/grid.png`, { cache: 'no-store' })).status, adaJob);
      expect(gone).toBe(404);
      expect([...pageProblems(ada.page), ...pageProblems(lei.page)].filter((p) => !p.includes('404'))).toEqual([]);
    } finally {
      await ada.context.close();
      await lei.context.close();
    }
  }, TEST_TIMEOUT_MS);

  it('opens on the composer under a chosen name; a rename in the header signs the next card, same user, and is kept', async () => {
    const { page, context } = await openTab(chromium.browser, studio.url);
    const zh = await openTab(chromium.browser, studio.url, undefined, 'zh-CN');
    try {
      // No prompt in the way: the typing goes to the composer, and the header shows a name in the page's language.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('text');
      expect(await page.locator('dialog[open]').count()).toBe(0);
      const chosen = (await page.locator('#who').textContent()) ?? '';
      expect(chosen).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(await page.evaluate(() => localStorage.getItem('zimage.name'))).toBe(chosen);
      expect(await zh.page.evaluate(() => document.activeElement?.id)).toBe('text');
      expect(await zh.page.locator('#who').textContent()).toMatch(/^\p{Script=Han}{3,5}$/u);

      // Typed straight away, without clicking anywhere first.
      const earlier = await cardIds(page);
      await page.keyboard.type('/draft a red kite --seed 5');
      await page.keyboard.press('Enter');
      const first = await nextFinishedCard(page, earlier, 'draft');
      expect(await page.locator(`#job-${first} .author`).textContent()).toBe(chosen);

      // A name the server would refuse is not saved: the field says why, and Escape keeps the old name.
      await page.click('#who');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('name-input');
      expect(await page.inputValue('#name-input')).toBe(chosen);
      await page.fill('#name-input', '   ');
      await page.press('#name-input', 'Enter');
      await page.locator('#name-error').waitFor({ state: 'visible' });
      await page.press('#name-input', 'Escape');
      expect(await page.locator('#who').textContent()).toBe(chosen);

      // Renamed: the next card carries the new name, the earlier one keeps its own, and both are still this user's.
      await rename(page, 'Grace Hopper');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('text');
      const before = await cardIds(page);
      await send(page, '/draft a blue kite --seed 6');
      const second = await nextFinishedCard(page, before, 'draft');
      expect(await page.locator(`#job-${second} .author`).textContent()).toBe('Grace Hopper');
      expect(await page.locator(`#job-${first} .author`).textContent()).toBe(chosen);
      for (const id of [first, second]) expect(await page.locator(`#job-${id}`).getAttribute('data-mine')).toBe('true');
      // Another user's tab sees the new name, and does not own the card.
      await expect.poll(() => zh.page.locator(`#job-${second} .author`).textContent(), WAIT).toBe('Grace Hopper');
      expect(await zh.page.locator(`#job-${second}`).getAttribute('data-mine')).toBe('false');

      // Kept across a reload, with the same user id (the cards are still this tab's own).
      await page.reload();
      await welcomed(page);
      expect(await page.locator('#who').textContent()).toBe('Grace Hopper');
      await page.locator(`#job-${second}`).waitFor();
      for (const id of [first, second]) expect(await page.locator(`#job-${id}`).getAttribute('data-mine')).toBe('true');
      expect([...pageProblems(page), ...pageProblems(zh.page)]).toEqual([]);
    } finally {
      await context.close();
      await zh.context.close();
    }
  }, TEST_TIMEOUT_MS);
});
