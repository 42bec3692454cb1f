import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDelivery } from '../../../src/bots/core/core.ts';
import { errorText, text } from '../../../src/bots/core/texts.ts';
import { startStudio, type StudioAdapter } from '../../../src/bots/studio/index.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { FakeOpenAI, LLAMA_CPP_NO_VISION } from '../../support/fake-openai.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import {
  cardIds,
  ephemeralTexts,
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
 * The prompt assistant in the studio, end to end: headless Chromium on the real page, the real runtime (oracle fixture
 * model, nsfwjs, SQLite journal) and a fake OpenAI-compatible server on 127.0.0.1. The fake's hold keeps a request
 * waiting for as long as a test needs, so what the cards show meanwhile is read without racing anything; the deadline
 * is a second runtime whose short timeout a held request always outlives; the feature's absence is a third runtime.
 */
const TAIL = 'shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.';

let chromium: StudioBrowser;

beforeAll(async () => {
  chromium = await launchChromium();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await chromium?.close();
}, START_TIMEOUT_MS);

const solidPng = (colour: string): Promise<Buffer> => sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).png().toBuffer();

const jobCount = (runtime: Runtime): number => runtime.core.history.recent({ limit: 500 }).length;

/** The assistant's cards in a tab: id, state and the words shown. */
const assistCards = (page: Page): Promise<{ id: string; state: string; task: string; prompt: string | null; text: string | null }[]> =>
  page.$$eval('article.card.assist', (cards) =>
    cards.map((c) => ({
      id: (c as HTMLElement).dataset.jobId ?? '',
      state: (c as HTMLElement).dataset.state ?? '',
      task: (c as HTMLElement).dataset.task ?? '',
      prompt: c.querySelector('.prompt')?.textContent ?? null,
      text: c.querySelector('.status-text, .suggestions-title')?.textContent ?? null,
    })),
  );

/** Waits for an assistant's card at work in a tab, and returns its id. */
async function assisting(page: Page, task: 'enhance' | 'describe'): Promise<string> {
  const handle = await page.waitForFunction((task) => {
    const card = document.querySelector<HTMLElement>(`article.card.assist[data-state="assisting"][data-task="${task}"]`);
    return card?.dataset.jobId;
  }, task);
  return (await handle.jsonValue()) as string;
}

/** Waits for describe's suggestions card (the newest) and returns its id. */
async function suggestionsCard(page: Page, known: readonly string[] = []): Promise<string> {
  const handle = await page.waitForFunction((known) => {
    const cards = Array.from(document.querySelectorAll<HTMLElement>('article.card.assist[data-state="suggestions"]'));
    return cards.find((c) => !known.includes(c.dataset.jobId ?? ''))?.dataset.jobId;
  }, [...known]);
  return (await handle.jsonValue()) as string;
}

const suggestionsOf = (page: Page, id: string): Promise<{ prompt: string; button: string; describedBy: string | null }[]> =>
  page.$$eval(`[id="job-${id}"] li.suggestion`, (items) =>
    items.map((li) => {
      const button = li.querySelector('button')!;
      const describedBy = button.getAttribute('aria-describedby');
      return { prompt: li.querySelector('.suggestion-text')?.textContent ?? '', button: button.textContent ?? '', describedBy: (describedBy && document.getElementById(describedBy)?.textContent) ?? null };
    }),
  );

/** Waits for an ephemeral message in a tab beyond the `before` it already showed; returns the new ones. */
async function newEphemerals(page: Page, before: number): Promise<string[]> {
  await expect.poll(async () => (await ephemeralTexts(page)).length, WAIT).toBeGreaterThan(before);
  return (await ephemeralTexts(page)).slice(before);
}

/** The composer is free again (its answer, an ack or a refusal, came). */
const composerIdle = (page: Page): Promise<void> => expect.poll(() => page.locator('#send').isDisabled(), WAIT).toBe(false);

describe('the prompt assistant in the studio', () => {
  let openai: FakeOpenAI;
  let runtime: Runtime;
  let studio: StudioAdapter;
  let ada: Page;
  let lei: Page;
  let enhanced: string;

  beforeAll(async () => {
    openai = await FakeOpenAI.start();
    runtime = await startTestRuntime({ config: { studio: { port: 0 }, assistant: { url: openai.url, model: 'fake-model', vision: { model: 'fake-vision' } } } });
    studio = await startStudio(runtime);
    ada = (await openTab(chromium.browser, studio.url, 'Ada')).page;
    lei = (await openTab(chromium.browser, studio.url, '李雷', 'zh-CN')).page;
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    for (const page of [ada, lei]) await page?.context().close();
    await studio?.stop();
    await runtime?.close();
    await openai?.close();
  }, START_TIMEOUT_MS);

  it(
    'offers Enhance and Describe in each tab’s language; the Enhance toggle shows "Enhancing the prompt…", then the rewrite beside the original (as text)',
    async () => {
      // The controls are there, named in the tab's language, and --enhance is in the help.
      expect(await ada.locator('#enhance-toggle').isVisible()).toBe(true);
      expect(await ada.getByRole('checkbox', { name: 'Enhance' }).isChecked()).toBe(false);
      expect(await ada.getByRole('button', { name: 'Describe image…' }).isVisible()).toBe(true);
      expect(await lei.getByRole('checkbox', { name: '增强' }).isVisible()).toBe(true);
      expect(await lei.getByRole('button', { name: '描述图像…' }).isVisible()).toBe(true);
      expect(await ada.locator('#options dt').allTextContents()).toContain('--enhance');

      // The toggle from the keyboard: Tab from the composer reaches it, Space checks it.
      await ada.locator('#text').focus();
      await ada.keyboard.press('Tab');
      expect(await ada.evaluate(() => document.activeElement?.id)).toBe('enhance');
      await ada.keyboard.press('Space');
      expect(await ada.locator('#enhance').isChecked()).toBe(true);

      openai.hold();
      const jobs = jobCount(runtime);
      await send(ada, 'a <b>bold</b> fox --seed 5 --count 2');
      await openai.whenInFlight(1);
      const card = await assisting(ada, 'enhance');
      // Every tab sees the card at work, in its asker's words; no job exists yet.
      for (const page of [ada, lei]) {
        await expect.poll(() => assistCards(page), WAIT).toEqual([{ id: card, state: 'assisting', task: 'enhance', prompt: 'a <b>bold</b> fox', text: 'Enhancing the prompt…' }]);
        expect(await page.locator(`[id="job-${card}"] button`).count()).toBe(0);
      }
      expect(jobCount(runtime)).toBe(jobs);
      expect(openai.requests.at(-1)!.texts).toEqual(['a <b>bold</b> fox']);
      // The asker's tab is not frozen meanwhile: its board panel answers while the rewrite is still being written.
      await ada.click('#open-board');
      await expect.poll(async () => (await ada.locator('#board-text').textContent()) ?? '', WAIT).not.toBe('');
      expect((await assistCards(ada)).map((c) => [c.id, c.state])).toEqual([[card, 'assisting']]);
      await ada.keyboard.press('Escape');
      openai.release();

      const jobId = await nextFinishedCard(ada, [], 'draft');
      enhanced = jobId;
      // The job's card took the assistant's place in every tab.
      for (const page of [ada, lei]) {
        await expect.poll(() => page.locator(`#job-${jobId}`).getAttribute('data-state'), WAIT).toBe('result');
        expect(await assistCards(page)).toEqual([]);
      }
      const record = runtime.core.history.get(jobId)!;
      expect(record.spec).toMatchObject({ userPrompt: `a <b>bold</b> fox, ${TAIL}`, seed: 5 });
      expect(readDelivery(record).enhancedFrom).toBe('a <b>bold</b> fox');
      const result = ada.locator(`#job-${jobId}`);
      expect(await result.locator('.prompt').textContent()).toBe(`a <b>bold</b> fox, ${TAIL}`);
      expect(await result.locator('.enhanced').textContent()).toBe(text('en', 'result.enhanced', { original: 'a <b>bold</b> fox' }));
      // Prompts are text, never markup.
      expect(await result.locator('b').count()).toBe(0);
      expect(await result.locator('button[data-action="original"]').textContent()).toBe('Use my original prompt');
      expect(await lei.locator(`#job-${jobId} button[data-action="original"]`).textContent()).toBe('Use my original prompt');
      // The toggle stays on for the next draft until unchecked.
      expect(await ada.locator('#enhance').isChecked()).toBe(true);
      await ada.locator('#enhance').uncheck();
      expect(pageProblems(ada)).toEqual([]);
      expect(pageProblems(lei)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Use my original prompt drafts the original with the same seed; a typed --enhance and Enhance in a result’s menu both rewrite first',
    async () => {
      const before = await cardIds(lei);
      await lei.locator(`#job-${enhanced} button[data-action="original"]`).click();
      const original = await nextFinishedCard(lei, before, 'draft');
      expect(runtime.core.history.get(original)).toMatchObject({ action: 'original', parentId: enhanced, spec: { userPrompt: 'a <b>bold</b> fox', seed: 5 } });
      expect(await ada.locator(`#job-${original} .prompt`).textContent()).toBe('a <b>bold</b> fox');
      await expect.poll(() => ada.locator(`#job-${original}`).getAttribute('data-state'), WAIT).toBe('result');
      expect(await ada.locator(`#job-${original} .enhanced`).count()).toBe(0);

      // Typed: --enhance goes through the grammar like any switch.
      let known = await cardIds(ada);
      await send(ada, '/draft a blue owl --enhance --seed 8');
      const typed = await nextFinishedCard(ada, known, 'draft');
      expect(runtime.core.history.get(typed)!.spec).toMatchObject({ userPrompt: `a blue owl, ${TAIL}`, seed: 8 });
      expect(await ada.locator(`#job-${typed} .enhanced`).textContent()).toBe(text('en', 'result.enhanced', { original: 'a blue owl' }));

      // A plain result's menu offers Enhance; chosen from the keyboard (arrows browse, Enter chooses).
      known = await cardIds(ada);
      await send(ada, 'a green lantern --seed 9');
      const plain = await nextFinishedCard(ada, known, 'draft');
      const menu = ada.locator(`#job-${plain} select.menu`);
      const actions = await menu.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).dataset.action ?? ''));
      const at = actions.indexOf('enhance');
      expect(at).toBeGreaterThan(0);
      openai.hold();
      known = await cardIds(ada);
      await menu.focus();
      for (let i = 0; i < at; i += 1) await ada.keyboard.press('ArrowDown');
      await ada.keyboard.press('Enter');
      await openai.whenInFlight(1);
      const card = await assisting(ada, 'enhance');
      expect((await assistCards(ada)).find((c) => c.id === card)).toMatchObject({ prompt: 'a green lantern', text: 'Enhancing the prompt…' });
      openai.release();
      const fromMenu = await nextFinishedCard(ada, known, 'draft');
      expect(runtime.core.history.get(fromMenu)).toMatchObject({ action: 'enhance', parentId: plain, spec: { userPrompt: `a green lantern, ${TAIL}`, seed: 9 } });
      await expect.poll(() => assistCards(ada), WAIT).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Describe image… (from the keyboard) shows "Describing the image…", then four suggestions with Draft buttons; Draft 2 in another tab drafts the second',
    async () => {
      openai.hold();
      const chooser = lei.waitForEvent('filechooser');
      await lei.getByRole('button', { name: '描述图像…' }).focus();
      await lei.keyboard.press('Enter');
      await (await chooser).setFiles({ name: 'photo.png', mimeType: 'image/png', buffer: await solidPng('#2050d0') });
      await openai.whenInFlight(1);
      const card = await assisting(lei, 'describe');
      // The asker's language on the card, in every tab.
      for (const page of [lei, ada]) await expect.poll(async () => (await assistCards(page)).find((c) => c.id === card)?.text, WAIT).toBe('正在描述图像…');
      expect(await lei.locator('#describe').isDisabled()).toBe(true);
      openai.release();

      const done = await suggestionsCard(ada);
      expect(done).toBe(card);
      const request = openai.requests.at(-1)!;
      expect(request.model).toBe('fake-vision');
      expect(request.images.map((i) => i.mime)).toEqual(['image/png']);
      const shown = await suggestionsOf(ada, card);
      expect(shown.map((s) => s.button)).toEqual(['生成草图 1', '生成草图 2', '生成草图 3', '生成草图 4']);
      expect(shown[1]!.prompt).toBe('A watercolour painting of a blue field, soft edges and visible paper grain.');
      // Each Draft button is described by the prompt it drafts.
      expect(shown.every((s) => s.describedBy === s.prompt)).toBe(true);
      expect(await ada.locator(`[id="job-${card}"] .suggestions-title`).textContent()).toBe(text('zh-CN', 'describe.title'));
      expect(await ada.locator(`[id="job-${card}"]`).getAttribute('data-withheld')).toBe('0');
      await expect.poll(() => lei.locator('#describe').isDisabled(), WAIT).toBe(false);

      const known = await cardIds(ada);
      await ada.locator(`[id="job-${card}"] li.suggestion`).nth(1).getByRole('button').click();
      const drafted = await nextFinishedCard(ada, known, 'draft');
      expect(runtime.core.history.get(drafted)).toMatchObject({ role: 'draft', owner: { userId: expect.any(String) }, spec: { userPrompt: shown[1]!.prompt } });
      expect(runtime.core.history.get(drafted)!.owner.name).toBe('Ada');
      // The suggestions stay for a tab that comes later.
      await ada.reload();
      await ada.locator(`[id="job-${card}"] li.suggestion`).first().waitFor();
      expect(await suggestionsOf(ada, card)).toHaveLength(4);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'Describe on a replied-to candidate; a suggestion the prompt filter refuses is withheld and counted',
    async () => {
      const known = await cardIds(ada);
      await send(ada, 'a green meadow --seed 3 --count 1');
      const meadow = await nextFinishedCard(ada, known, 'draft');
      openai.answer = (request) => (request.images.length > 0 ? JSON.stringify(['A quiet green lake at dawn.', 'A nude bather by a green lake.', 'A green lake under snow.']) : 'unused');
      try {
        const cards = (await assistCards(ada)).map((c) => c.id);
        await ada.locator(`#job-${meadow} figure[data-index="0"] button.reply`).click();
        const describeThis = ada.getByRole('button', { name: 'Describe', exact: true });
        expect(await describeThis.isVisible()).toBe(true);
        await describeThis.click();
        // The candidate was used up: the composer holds no image any more.
        expect(await ada.locator('#attachment').isHidden()).toBe(true);
        const card = await suggestionsCard(ada, cards);
        expect(openai.requests.at(-1)!.images).toHaveLength(1);
        const shown = await suggestionsOf(ada, card);
        expect(shown.map((s) => s.prompt)).toEqual(['A quiet green lake at dawn.', 'A green lake under snow.']);
        expect(shown.map((s) => s.button)).toEqual(['Draft 1', 'Draft 2']);
        expect(await ada.locator(`[id="job-${card}"]`).getAttribute('data-withheld')).toBe('1');
        expect(await ada.locator(`[id="job-${card}"] .notes li`).allTextContents()).toEqual([text('en', 'describe.withheld', { n: 1 })]);
        expect(await ada.locator(`[id="job-${card}"]`).textContent()).not.toContain('nude');
      } finally {
        openai.answer = undefined;
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a model that takes no images is told as such, to the asker alone; nothing changes',
    async () => {
      // llama-server started without a projector answers an image part with this 500.
      openai.mode = { kind: 'error', status: 500, message: LLAMA_CPP_NO_VISION.error.message, type: LLAMA_CPP_NO_VISION.error.type };
      try {
        const jobs = jobCount(runtime);
        const [adaBefore, leiBefore] = [(await ephemeralTexts(ada)).length, (await ephemeralTexts(lei)).length];
        await ada.setInputFiles('#describe-file', { name: 'photo.png', mimeType: 'image/png', buffer: await solidPng('#d02020') });
        expect(await newEphemerals(ada, adaBefore)).toEqual([errorText('en', { code: 'assistant-no-vision', message: '', params: { model: 'fake-vision' } })]);
        await expect.poll(() => ada.locator('#describe').isDisabled(), WAIT).toBe(false);
        for (const page of [ada, lei]) expect((await assistCards(page)).filter((c) => c.state === 'assisting')).toEqual([]);
        expect(await ephemeralTexts(lei)).toHaveLength(leiBefore);
        expect(jobCount(runtime)).toBe(jobs);
      } finally {
        openai.mode = { kind: 'normal' };
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with the server down, Enhance and Describe each say why in the asker’s tab alone, take their card back and queue nothing',
    async () => {
      // The last test on this server: afterAll's close of a closed server is harmless.
      await openai.close();
      const jobs = jobCount(runtime);
      const [adaBefore, leiBefore] = [(await ephemeralTexts(ada)).length, (await ephemeralTexts(lei)).length];
      await lei.getByRole('checkbox', { name: '增强' }).check();
      await send(lei, 'a quiet harbour');
      expect(await newEphemerals(lei, leiBefore)).toEqual([errorText('zh-CN', { code: 'assistant-unreachable', message: '' })]);
      await composerIdle(lei);
      // The text stays for another try; no assistant card is left anywhere, and nothing was queued.
      expect(await lei.locator('#text').inputValue()).toBe('a quiet harbour');
      for (const page of [ada, lei]) expect((await assistCards(page)).filter((c) => c.state === 'assisting')).toEqual([]);
      expect(jobCount(runtime)).toBe(jobs);

      await ada.setInputFiles('#describe-file', { name: 'photo.png', mimeType: 'image/png', buffer: await solidPng('#d02020') });
      expect(await newEphemerals(ada, adaBefore)).toEqual([errorText('en', { code: 'assistant-unreachable', message: '' })]);
      await expect.poll(() => ada.locator('#describe').isDisabled(), WAIT).toBe(false);
      for (const page of [ada, lei]) expect((await assistCards(page)).filter((c) => c.state === 'assisting')).toEqual([]);
      // Each refusal went to its asker alone.
      expect(await ephemeralTexts(ada)).toHaveLength(adaBefore + 1);
      expect(await ephemeralTexts(lei)).toHaveLength(leiBefore + 1);
      expect(jobCount(runtime)).toBe(jobs);
      expect(pageProblems(ada)).toEqual([]);
      expect(pageProblems(lei)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the prompt assistant’s deadline in the studio', () => {
  let held: FakeOpenAI;
  let runtime: Runtime;
  let studio: StudioAdapter;

  beforeAll(async () => {
    held = await FakeOpenAI.start();
    held.hold();
    runtime = await startTestRuntime({ config: { studio: { port: 0 }, assistant: { url: held.url, model: 'fake-model', enhanceTimeoutMs: 500, describeTimeoutMs: 500 } } });
    studio = await startStudio(runtime);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await studio?.stop();
    await runtime?.close();
    await held?.close();
  }, START_TIMEOUT_MS);

  it(
    'a server that does not answer in time: one clear message, the card taken back, nothing queued',
    async () => {
      const { page, context } = await openTab(chromium.browser, studio.url, 'Ada');
      try {
        await send(page, '/draft a slow tortoise --enhance');
        expect(await newEphemerals(page, 0)).toEqual([errorText('en', { code: 'assistant-timeout', message: '', params: { seconds: 0.5 } })]);
        await composerIdle(page);
        await page.setInputFiles('#describe-file', { name: 'photo.png', mimeType: 'image/png', buffer: await solidPng('#20a040') });
        expect(await newEphemerals(page, 1)).toEqual([errorText('en', { code: 'assistant-timeout', message: '', params: { seconds: 0.5 } })]);
        // The server holds whatever reaches it and never answers: the deadline, whichever step it caught, ended both.
        expect(held.inFlight).toBe(held.requests.length);
        expect(await assistCards(page)).toEqual([]);
        expect(jobCount(runtime)).toBe(0);
        expect(pageProblems(page)).toEqual([]);
      } finally {
        await context.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe('the studio without a prompt assistant', () => {
  let runtime: Runtime;
  let studio: StudioAdapter;

  beforeAll(async () => {
    runtime = await startTestRuntime({ config: { studio: { port: 0 } } });
    studio = await startStudio(runtime);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await studio?.stop();
    await runtime?.close();
  }, START_TIMEOUT_MS);

  it(
    'offers no Enhance or Describe anywhere, and refuses a typed --enhance with the setup sentence in the asking tab only',
    async () => {
      const ada = await openTab(chromium.browser, studio.url, 'Ada');
      const lei = await openTab(chromium.browser, studio.url, '李雷', 'zh-CN');
      try {
        const page = ada.page;
        for (const tab of [ada.page, lei.page]) {
          expect(await tab.locator('#enhance-toggle').isHidden()).toBe(true);
          expect(await tab.locator('#describe').isHidden()).toBe(true);
          expect(await tab.locator('#options dt').allTextContents()).not.toContain('--enhance');
        }
        await send(page, 'a red fox --seed 5 --count 1');
        const plain = await nextFinishedCard(page, [], 'draft');
        const actions = await page.locator(`#job-${plain} select.menu option`).evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).dataset.action ?? ''));
        expect(actions).not.toContain('enhance');
        expect(await page.locator(`#job-${plain} button[data-action="original"]`).count()).toBe(0);
        await page.locator(`#job-${plain} figure[data-index="0"] button.reply`).click();
        expect(await page.locator('#attachment').isVisible()).toBe(true);
        expect(await page.locator('#describe-target').isHidden()).toBe(true);
        await page.locator('#clear-attachment').click();

        const jobs = jobCount(runtime);
        const leiBefore = (await ephemeralTexts(lei.page)).length;
        await send(page, '/draft a red fox --enhance');
        const setup = errorText('en', { code: 'assistant-not-configured', message: '' });
        expect(setup).toContain('ASSISTANT_URL');
        expect(await newEphemerals(page, 0)).toEqual([setup]);
        await send(lei.page, '/draft 一只狐狸 --enhance');
        expect(await newEphemerals(lei.page, leiBefore)).toEqual([errorText('zh-CN', { code: 'assistant-not-configured', message: '' })]);
        expect(await ephemeralTexts(page)).toHaveLength(1);
        expect(jobCount(runtime)).toBe(jobs);
        expect(await page.locator('article.card.assist').count()).toBe(0);
        expect(pageProblems(page)).toEqual([]);
      } finally {
        await ada.context.close();
        await lei.context.close();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
