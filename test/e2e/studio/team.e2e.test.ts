import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStudio, type StudioAdapter } from '../../../src/bots/studio/index.ts';
import { errorText, text } from '../../../src/bots/core/texts.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import {
  cardIds,
  imagesLoaded,
  launchChromium,
  nextFinishedCard,
  openTab,
  pageProblems,
  send,
  START_TIMEOUT_MS,
  TEST_TIMEOUT_MS,
  WAIT,
  type StudioBrowser,
} from './browser.ts';

/**
 * What a team does in the studio, end to end in Chromium over the real runtime (fixture model, real journal): votes
 * from several users with their own marks and live counts, the board panel and a Refine pressed from it, lineage
 * links and the History view, the settings panel and its precedence, and replies to a whole grid with and without
 * `#n`. Every wait is for something on the page (the core paces vote edits; nothing here counts on time).
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

/** Each candidate tile's vote count as shown, by candidate (null: no vote control, a withheld one). */
const voteCounts = (page: Page, jobId: string): Promise<(string | null)[]> =>
  page.$$eval(`#job-${jobId} figure.candidate`, (figures) => figures.map((f) => f.querySelector('.vote-count')?.textContent ?? null));

/** Which tiles this tab's user voted for, as the vote controls say it (aria-pressed). */
const myMarks = (page: Page, jobId: string): Promise<(string | null)[]> =>
  page.$$eval(`#job-${jobId} figure.candidate`, (figures) => figures.map((f) => f.querySelector('button.vote')?.getAttribute('aria-pressed') ?? null));

const vote = (page: Page, jobId: string, index: number): Promise<void> => page.locator(`#job-${jobId} figure[data-index="${index}"] button.vote`).click();

/** Waits until a tile shows this tab's own vote as given (the server answered the press). */
const markShown = (page: Page, jobId: string, index: number, on: boolean): Promise<void> =>
  expect.poll(async () => (await myMarks(page, jobId))[index], WAIT).toBe(String(on));

describe('a team in the studio', () => {
  it('three users vote (one takes a vote back): counts in every tab, each tab its own marks; the board ranks them and Refine #1 refines the winner', async () => {
    const ada = await openTab(chromium.browser, studio.url, 'Ada');
    const bo = await openTab(chromium.browser, studio.url, 'Bo');
    const lei = await openTab(chromium.browser, studio.url, '李雷', 'zh-CN');
    const tabs = [ada.page, bo.page, lei.page];
    try {
      // Before any vote: the board says it is empty, and how to vote here.
      await ada.page.click('#open-board');
      await expect.poll(() => ada.page.locator('#board-text').textContent(), WAIT).toBe(text('en', 'board.empty', { window: '24h', how: text('en', 'board.how.control') }));
      expect(await ada.page.locator('#board-sheet').isHidden()).toBe(true);
      expect(await ada.page.locator('#board-entries li').count()).toBe(0);
      await ada.page.keyboard.press('Escape');
      await ada.page.locator('#board-dialog').waitFor({ state: 'hidden' });

      await send(ada.page, '/draft a lighthouse, {amber|teal|violet|coral} sky --seed 7');
      const draft = await nextFinishedCard(ada.page, [], 'draft');
      for (const page of tabs) {
        await expect.poll(() => page.locator(`#job-${draft}`).getAttribute('data-state'), WAIT).toBe('result');
        expect(await voteCounts(page, draft)).toEqual(['0', '0', '0', '0']);
        expect(await myMarks(page, draft)).toEqual(['false', 'false', 'false', 'false']);
      }
      // Each candidate once, as a tile with its number, Reply and a labelled vote control.
      const tile = ada.page.locator(`#job-${draft} figure[data-index="1"]`);
      expect(await tile.locator('.tile-number').textContent()).toBe('2');
      expect(await tile.locator('button.vote').getAttribute('aria-label')).toBe('Vote for candidate 2 (0 votes)');
      expect(await lei.page.locator(`#job-${draft} figure[data-index="1"] button.vote`).getAttribute('aria-label')).toBe('为第 2 个候选投票（0 票）');
      expect(await tile.locator('button.reply').getAttribute('aria-label')).toBe('Reply to candidate 2');

      // Ada votes for 2; Bo for 2, 1 and 3; 李雷 for 2 and 3 from the keyboard; then Bo takes back 1.
      await vote(ada.page, draft, 1);
      await markShown(ada.page, draft, 1, true);
      for (const index of [1, 0, 2]) {
        await vote(bo.page, draft, index);
        await markShown(bo.page, draft, index, true);
      }
      for (const index of [1, 2]) {
        await lei.page.locator(`#job-${draft} figure[data-index="${index}"] button.vote`).focus();
        await lei.page.keyboard.press('Space');
        await markShown(lei.page, draft, index, true);
        // The card was re-drawn with the vote: the keyboard is still on the control it pressed.
        expect(await lei.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.focusKey)).toBe(`vote:${index}`);
      }
      await vote(bo.page, draft, 0);
      await markShown(bo.page, draft, 0, false);

      // Every tab shows the counts (the core re-draws the result at its own pace); the card's words are its asker's.
      const votesLine = text('en', 'result.votes', { votes: '#2 ×3 · #3 ×2' });
      for (const page of tabs) {
        await expect.poll(() => voteCounts(page, draft), WAIT).toEqual(['0', '3', '2', '0']);
        await expect.poll(() => page.locator(`#job-${draft} .votes`).textContent(), WAIT).toBe(votesLine);
      }
      // Each tab marks its own user's votes, and no one else's.
      expect(await myMarks(ada.page, draft)).toEqual(['false', 'true', 'false', 'false']);
      expect(await myMarks(bo.page, draft)).toEqual(['false', 'true', 'true', 'false']);
      expect(await myMarks(lei.page, draft)).toEqual(['false', 'true', 'true', 'false']);
      expect(await ada.page.locator(`#job-${draft} figure[data-index="1"] .vote-star`).textContent()).toBe('★');
      expect(await ada.page.locator(`#job-${draft} figure[data-index="2"] .vote-star`).textContent()).toBe('☆');
      expect(runtime.core.team.votesOf(draft)).toEqual([0, 3, 2, 0]);
      // A reload keeps them (they are in the journal, not the page).
      await bo.page.reload();
      await bo.page.locator(`#job-${draft} .votes`).waitFor();
      expect(await myMarks(bo.page, draft)).toEqual(['false', 'true', 'true', 'false']);
      expect(await voteCounts(bo.page, draft)).toEqual(['0', '3', '2', '0']);

      // The board: most votes first, the contact sheet loaded, a line per entry; in the viewer's language.
      await bo.page.click('#open-board');
      const entries = bo.page.locator('#board-entries li');
      await expect.poll(() => entries.count(), WAIT).toBe(2);
      expect(await bo.page.locator('#board-text').textContent()).toBe(text('en', 'board.title', { window: '24h', count: 2 }));
      expect(await entries.evaluateAll((items) => items.map((i) => [(i as HTMLElement).dataset.jobId, (i as HTMLElement).dataset.index, (i as HTMLElement).dataset.rank]))).toEqual([
        [draft, '1', '1'],
        [draft, '2', '2'],
      ]);
      const lines = await bo.page.locator('#board-entries .board-line').allTextContents();
      expect(lines[0]).toMatch(/^#1 · 3 votes · “a lighthouse, teal sky” · seed \d+ · .+ · by Ada$/);
      expect(lines[1]).toMatch(/^#2 · 2 votes · “a lighthouse, violet sky”/);
      await bo.page.waitForFunction(() => {
        const sheet = document.querySelector<HTMLImageElement>('#board-sheet');
        return sheet !== null && !sheet.hidden && sheet.complete && sheet.naturalWidth > 0;
      });
      expect(await bo.page.locator('#board-sheet').getAttribute('src')).toMatch(/^\/board\/[a-f0-9]{32}\.png$/);
      expect(await bo.page.locator('#board-sheet').getAttribute('alt')).toBe(text('en', 'board.alt', { count: 2 }));
      expect(await bo.page.locator('#board-more select.menu option[value^="z:"]').allTextContents()).toEqual(['Vary #1 · subtle', 'Vary #1 · strong', 'Vary #2 · subtle', 'Vary #2 · strong']);
      // The window chooser asks again.
      await bo.page.locator('input[name="since"][value="2h"]').check();
      await expect.poll(() => bo.page.locator('#board-text').textContent(), WAIT).toBe(text('en', 'board.title', { window: '2h', count: 2 }));
      await lei.page.click('#open-board');
      await expect.poll(() => lei.page.locator('#board-text').textContent(), WAIT).toBe(text('zh-CN', 'board.title', { window: '24h', count: 2 }));
      // "Show" takes the reader to the entry's card.
      await lei.page.locator('#board-entries li[data-rank="1"] button.show-card').click();
      await lei.page.locator('#board-dialog').waitFor({ state: 'hidden' });
      await expect.poll(() => lei.page.evaluate(() => document.activeElement?.id), WAIT).toBe(`job-${draft}`);

      // Refine #1 from the board: the panel closes and a refine of the winner (candidate 2) appears in the feed.
      const before = await cardIds(bo.page);
      await bo.page.locator(`#board-entries button[data-button-id="z:refine:${draft}:1"]`).click();
      await bo.page.locator('#board-dialog').waitFor({ state: 'hidden' });
      const refine = await nextFinishedCard(bo.page, before, 'refine');
      expect(journal().get(refine)).toMatchObject({ role: 'refine', action: 'refine', parentId: draft, parentIndex: 1, status: 'done', owner: { name: 'Bo' } });
      expect((await imagesLoaded(bo.page, refine, 'img.tile'))[0]).toBeGreaterThan(0);
      expect(await bo.page.locator(`#job-${refine} .origin`).textContent()).toBe(`↳ refined from #2 of job ${draft}`);
      // A card made from a panel is brought into view.
      await expect.poll(() => bo.page.evaluate(() => document.activeElement?.id), WAIT).toBe(`job-${refine}`);

      expect([...pageProblems(ada.page), ...pageProblems(bo.page), ...pageProblems(lei.page)]).toEqual([]);
    } finally {
      await ada.context.close();
      await bo.context.close();
      await lei.context.close();
    }
  }, TEST_TIMEOUT_MS);

  it('lineage after draft → vary → refine → edit: each card links its parent, and History lists the whole chain', async () => {
    const { page, context } = await openTab(chromium.browser, studio.url, 'Ada');
    try {
      let before = await cardIds(page);
      await send(page, '/draft a red kite over a field --count 2 --seed 11');
      const draft = await nextFinishedCard(page, before, 'draft');

      // From the keyboard: arrows on the menu browse its options (nothing is pressed yet), Enter chooses.
      before = await cardIds(page);
      const menu = page.locator(`#job-${draft} select.menu`);
      await menu.focus();
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      expect(await menu.inputValue()).toBe(`z:vary-subtle:${draft}:1`);
      await page.keyboard.press('Enter');
      const vary = await nextFinishedCard(page, before, 'draft');
      expect(await menu.inputValue()).toBe('');

      before = await cardIds(page);
      await page.locator(`#job-${vary} button[data-button-id="z:refine:${vary}:0"]`).click();
      const refine = await nextFinishedCard(page, before, 'refine');

      before = await cardIds(page);
      await page.locator(`#job-${refine} figure[data-index="0"] button.reply`).click();
      await send(page, 'make it green');
      const edit = await nextFinishedCard(page, before, 'edit');

      expect(journal().get(vary)).toMatchObject({ action: 'vary', parentId: draft, parentIndex: 1 });
      expect(journal().get(refine)).toMatchObject({ action: 'refine', parentId: vary, parentIndex: 0 });
      expect(journal().get(edit)).toMatchObject({ action: 'edit', parentId: refine, parentIndex: 0 });

      // Each card's origin line: the core's words, the label an anchor to the parent's card.
      const origins: [string, string, string][] = [
        [vary, draft, `↳ varied from #2 of job ${draft}`],
        [refine, vary, `↳ refined from #1 of job ${vary}`],
        [edit, refine, `↳ edited from #1 of job ${refine}`],
      ];
      for (const [child, parent, line] of origins) {
        expect(await page.locator(`#job-${child} .origin`).textContent()).toBe(line);
        const link = page.locator(`#job-${child} .origin a.parent`);
        expect(await link.getAttribute('href')).toBe(`#job-${parent}`);
        expect(await link.textContent()).toBe(`job ${parent}`);
      }
      expect(await page.locator(`#job-${draft} .origin`).count()).toBe(0);
      // Following a link brings the parent's card into view, with the focus.
      await page.locator(`#job-${edit} .origin a.parent`).click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.id), WAIT).toBe(`job-${refine}`);
      expect(await page.locator(`#job-${refine}`).isVisible()).toBe(true);

      // History of the edit: the four jobs from the draft down, the edit itself current; nothing built on it yet.
      await page.locator(`#job-${edit} button.history`).click();
      const chain = page.locator('#lineage-chain li');
      await expect.poll(() => chain.count(), WAIT).toBe(4);
      expect(await chain.evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.jobId))).toEqual([draft, vary, refine, edit]);
      expect(await page.locator('#lineage-title').textContent()).toBe(`History of job ${edit}`);
      expect(await page.locator('#lineage-chain [aria-current]').textContent()).toContain(edit);
      const steps = await page.locator('#lineage-chain .lineage-step').allTextContents();
      expect(steps[0]).toContain(`${draft} · /draft · by Ada`);
      expect(steps[1]).toContain(`varied from #2 of ${draft}`);
      expect(steps[3]).toContain(`edited from #1 of ${refine}`);
      expect(await page.locator('#lineage-children li').count()).toBe(0);
      expect(await page.locator('#lineage-none').isVisible()).toBe(true);
      // The path is marked in the feed.
      for (const id of [draft, vary, refine, edit]) expect(await page.locator(`#job-${id}`).getAttribute('class')).toContain('on-path');
      // An entry takes you to its card.
      await page.locator(`#lineage-chain li[data-job-id="${draft}"] button`).click();
      await page.locator('#lineage-dialog').waitFor({ state: 'hidden' });
      await expect.poll(() => page.evaluate(() => document.activeElement?.id), WAIT).toBe(`job-${draft}`);

      // History of the draft: itself, and the vary made from it.
      await page.locator(`#job-${draft} button.history`).click();
      await expect.poll(() => page.locator('#lineage-children li').count(), WAIT).toBe(1);
      expect(await page.locator('#lineage-children li').getAttribute('data-job-id')).toBe(vary);
      expect(await page.locator('#lineage-chain li').count()).toBe(1);
      await page.keyboard.press('Escape');
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, TEST_TIMEOUT_MS);

  it('a reply to a whole grid edits every candidate in one job; with #n only candidate n; a reply to a tile, that tile', async () => {
    const { page, context } = await openTab(chromium.browser, studio.url, 'Ada');
    try {
      let before = await cardIds(page);
      await send(page, '/draft a {red|blue} circle on white --seed 3');
      const grid = await nextFinishedCard(page, before, 'draft');
      const paths = journal().get(grid)!.result!.images.map((i) => i.path);
      expect(paths).toHaveLength(2);

      // Reply to all: the composer says so (and offers no mask, which is painted over one image).
      await page.locator(`#job-${grid} button.reply-all`).click();
      expect(await page.locator('#attachment-label').textContent()).toBe(`Replying to every candidate of job ${grid} (start with #n to edit only candidate n)`);
      expect(await page.locator('#paint-mask').isHidden()).toBe(true);
      before = await cardIds(page);
      await send(page, 'make it green');
      const all = await nextFinishedCard(page, before, 'edit');
      const allRecord = journal().get(all)!;
      expect(allRecord).toMatchObject({ action: 'edit', parentId: grid, parentIndex: null, status: 'done' });
      expect(allRecord.result!.images).toHaveLength(2);
      expect(await page.locator(`#job-${all} figure.candidate`).count()).toBe(2);
      expect(await page.locator(`#job-${all} .origin`).textContent()).toBe(`↳ edited from every candidate of job ${grid}`);

      // Reply to all, starting with #2: only candidate 2, one image back.
      await page.locator(`#job-${grid} button.reply-all`).click();
      before = await cardIds(page);
      await send(page, '#2 make it green');
      const picked = await nextFinishedCard(page, before, 'edit');
      const pickedRecord = journal().get(picked)!;
      expect(pickedRecord).toMatchObject({ action: 'edit', parentId: grid, parentIndex: 1, status: 'done' });
      expect(pickedRecord.spec.image).toBe(paths[1]);
      expect(pickedRecord.spec.userPrompt).not.toContain('#2');
      expect(pickedRecord.result!.images).toHaveLength(1);
      expect(await page.locator(`#job-${picked} .origin`).textContent()).toBe(`↳ edited from #2 of job ${grid}`);

      // Reply to tile 1: that candidate.
      await page.locator(`#job-${grid} figure[data-index="0"] button.reply`).click();
      expect(await page.locator('#attachment-label').textContent()).toBe(`Replying to candidate 1 of job ${grid}`);
      expect(await page.locator('#paint-mask').isVisible()).toBe(true);
      before = await cardIds(page);
      await send(page, 'make it green');
      const tile = await nextFinishedCard(page, before, 'edit');
      expect(journal().get(tile)).toMatchObject({ action: 'edit', parentId: grid, parentIndex: 0 });
      expect(journal().get(tile)!.spec.image).toBe(paths[0]);

      // A pick past the grid: one sentence in this tab, and nothing queued.
      await page.locator(`#job-${grid} button.reply-all`).click();
      before = await cardIds(page);
      await send(page, '#4 make it green');
      await expect.poll(() => page.locator('.ephemeral .ephemeral-text').allTextContents(), WAIT).toContain(errorText('en', { code: 'no-such-candidate', params: { n: 4, count: 2 } }));
      expect(await cardIds(page)).toEqual(before);
      expect(pageProblems(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, TEST_TIMEOUT_MS);

  it('settings: the studio’s defaults and a user’s own apply to the next draft, flags win, refusals show in the panel', async () => {
    const bo = await openTab(chromium.browser, studio.url, 'Bo');
    const ada = await openTab(chromium.browser, studio.url, 'Ada');
    const page = bo.page;
    const drafted = async (tab: Page, command: string): Promise<{ count: number; width: number; height: number }> => {
      const before = await cardIds(tab);
      await send(tab, command);
      const id = await nextFinishedCard(tab, before, 'draft');
      const spec = journal().get(id)!.spec;
      return { count: spec.candidates.length, width: spec.width, height: spec.height };
    };
    try {
      await page.click('#open-settings');
      const channel = page.locator('#settings-channel');
      const mine = page.locator('#settings-personal');
      await expect.poll(() => page.locator('#settings-lines li').allTextContents(), WAIT).toEqual([
        text('en', 'settings.channel', { values: text('en', 'settings.none') }),
        text('en', 'settings.personal', { values: text('en', 'settings.none') }),
      ]);
      // Only `block` to choose: the studio is no NSFW channel.
      expect(await channel.locator('select[name="policy"] option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['', 'block']);
      expect(await channel.locator('button[type="submit"]').isDisabled()).toBe(true);

      // The studio's defaults: 2 candidates at 16:9.
      await channel.locator('select[name="count"]').selectOption('2');
      await channel.locator('input[name="ar"]').fill('16:9');
      await channel.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('#settings-saved').textContent(), WAIT).toContain('--count 2 · --ar 16:9');
      expect(await page.locator('#settings-lines li').first().textContent()).toBe(text('en', 'settings.channel', { values: '--count 2 · --ar 16:9' }));
      expect(await channel.locator('button[type="submit"]').isDisabled()).toBe(true);

      // A value the core refuses: said in the panel, nothing saved.
      await mine.locator('input[name="ar"]').fill('banana');
      await mine.locator('button[type="submit"]').click();
      const refusal = errorText('en', { code: 'bad-setting', params: { flag: '--ar', value: 'banana', allowed: '1:1 16:9 9:16 4:3 3:2 …' } });
      await expect.poll(() => page.locator('#settings-error').textContent(), WAIT).toBe(refusal);
      expect(await page.locator('#settings-error').isVisible()).toBe(true);
      expect(await page.locator('.ephemeral').count()).toBe(0);

      // Bo's own: 1 candidate (the ratio back to Default).
      await mine.locator('input[name="ar"]').fill('');
      await mine.locator('select[name="count"]').selectOption('1');
      await mine.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('#settings-lines li').nth(1).textContent(), WAIT).toBe(text('en', 'settings.personal', { values: '--count 1' }));
      expect(await page.locator('#settings-error').isHidden()).toBe(true);
      await page.keyboard.press('Escape');

      // Bo's next draft: his count, the studio's ratio. His flags beat both. Ada gets the studio's.
      const plain = await drafted(page, '/draft a red kite');
      expect(plain.count).toBe(1);
      expect(plain.width).toBeGreaterThan(plain.height);
      const flagged = await drafted(page, '/draft a red kite --count 3 --ar 1:1');
      expect(flagged).toMatchObject({ count: 3 });
      expect(flagged.width).toBe(flagged.height);
      const others = await drafted(ada.page, '/draft a blue kite');
      expect(others.count).toBe(2);
      expect(others.width).toBeGreaterThan(others.height);

      // Back to the defaults: Default clears each.
      await page.click('#open-settings');
      await expect.poll(() => channel.locator('select[name="count"]').inputValue(), WAIT).toBe('2');
      await channel.locator('select[name="count"]').selectOption('');
      await channel.locator('input[name="ar"]').fill('');
      await channel.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('#settings-lines li').first().textContent(), WAIT).toBe(text('en', 'settings.channel', { values: text('en', 'settings.none') }));
      await mine.locator('select[name="count"]').selectOption('');
      await mine.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator('#settings-lines li').nth(1).textContent(), WAIT).toBe(text('en', 'settings.personal', { values: text('en', 'settings.none') }));
      const who = { actor: { platform: 'studio', userId: 'x', locale: 'en' as const }, place: { platform: 'studio', channelId: 'studio', channelIsNsfw: false } };
      expect(runtime.core.team.settingsOf(who).channel).toEqual({});
      expect([...pageProblems(page), ...pageProblems(ada.page)]).toEqual([]);
    } finally {
      await bo.context.close();
      await ada.context.close();
    }
  }, TEST_TIMEOUT_MS);
});
