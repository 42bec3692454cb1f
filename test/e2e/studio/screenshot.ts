import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startStudio } from '../../../src/bots/studio/index.ts';
import { ROOT } from '../../support/fakes.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { launchChromium, nextFinishedCard, openTab, send } from './browser.ts';

/**
 * The README's screenshots of the studio, with real results on screen:
 * - docs/studio.png: a draft's candidates as tiles with votes from two people, and a refine of the favourite;
 * - docs/board.png: the board panel after three people voted on two drafts (and one refined a winner).
 *
 *   node --import tsx test/e2e/studio/screenshot.ts [--model auto|mini|fixture] [--model-dir DIR] [--out docs/studio.png] [--board-out docs/board.png]
 *
 * `auto` takes the shipped models/mini when it is there, else the fixture model (flat colours, one per prompt);
 * `--model-dir` points `mini` at another copy of it (e.g. one checked out from a commit).
 */
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'auto' },
    'model-dir': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'docs/studio.png') },
    'board-out': { type: 'string', default: join(ROOT, 'docs/board.png') },
  },
});
const useMini = values.model === 'mini' || (values.model === 'auto' && existsSync(join(ROOT, 'models/mini/model.json')));
// The mini model knows shapes, colours and positions; the fixture draws one flat colour per prompt alternative.
const prompts = useMini
  ? ['a {yellow star|red circle|green square|white triangle} in the center over a plain blue background --seed 7', 'a big orange disk at the lower left on a purple backdrop --seed 12']
  : ['a lighthouse at dusk, {amber|teal|violet|coral} sky --seed 7', 'a kite over a field, {red|green|blue|white} --seed 12'];

const runtime = await startTestRuntime({
  ...(useMini ? { model: 'mini' as const } : {}),
  config: { studio: { port: 0 }, ...(values['model-dir'] ? { model: { dir: values['model-dir'] } } : {}) },
  statusIntervalMs: 500,
});
const studio = await startStudio(runtime);
const chromium = await launchChromium();

/** Presses a tile's vote control and waits for the tab to show the vote as its own. */
async function vote(page: Page, jobId: string, index: number): Promise<void> {
  const control = page.locator(`#job-${jobId} figure[data-index="${index}"] button.vote`);
  await control.click();
  await page.waitForSelector(`#job-${jobId} figure[data-index="${index}"] button.vote[aria-pressed="true"]`);
}

const decoded = (page: Page): Promise<void> =>
  page.evaluate(async () => {
    await Promise.all(Array.from(document.images, (img) => (img.src ? img.decode().catch(() => undefined) : undefined)));
  });

try {
  const ada = await openTab(chromium.browser, studio.url, 'Ada');
  const bo = await openTab(chromium.browser, studio.url, 'Bo');
  const mei = await openTab(chromium.browser, studio.url, 'Mei');
  for (const { page } of [ada, bo, mei]) page.setDefaultTimeout(600_000);

  await send(ada.page, `/draft ${prompts[0]}`);
  const first = await nextFinishedCard(ada.page, [], 'draft');
  for (const { page } of [bo, mei]) await page.waitForSelector(`#job-${first}[data-state="result"]`);
  // Three people vote; Bo refines the favourite; Mei drafts her own, and it gets votes too.
  for (const [page, index] of [[ada.page, 0], [ada.page, 2], [bo.page, 0], [mei.page, 0], [mei.page, 2]] as const) await vote(page, first, index);
  await bo.page.locator(`#job-${first} button[data-button-id="z:refine:${first}:0"]`).click();
  const refine = await nextFinishedCard(ada.page, [first], 'refine');
  await send(mei.page, `/draft ${prompts[1]}`);
  const second = await nextFinishedCard(ada.page, [first, refine], 'draft');
  for (const { page } of [bo, mei]) await page.waitForSelector(`#job-${second}[data-state="result"]`);
  for (const [page, index] of [[ada.page, 1], [bo.page, 1], [mei.page, 3]] as const) await vote(page, second, index);
  await ada.page.waitForFunction((id) => document.querySelector(`#job-${id} .votes`)?.textContent?.includes('×3'), first);

  // docs/studio.png: Ada's tab, the first draft at the top, a reply to one of its tiles being typed.
  const page = ada.page;
  await page.setViewportSize({ width: 1280, height: 1720 });
  await decoded(page);
  await page.evaluate((id) => document.getElementById(`job-${id}`)!.scrollIntoView({ block: 'start' }), first);
  await page.locator(`#job-${first} figure[data-index="0"] button.reply`).click();
  await page.fill('#text', 'make the background darker');
  mkdirSync(dirname(values.out), { recursive: true });
  await page.screenshot({ path: values.out });
  process.stdout.write(`wrote ${values.out} (${useMini ? 'models/mini' : 'fixture model'}; refine ${refine})\n`);

  // docs/board.png: the board panel in Mei's tab.
  await mei.page.setViewportSize({ width: 1100, height: 1500 });
  await mei.page.click('#open-board');
  await mei.page.waitForSelector('#board-entries li');
  await mei.page.waitForFunction(() => {
    const sheet = document.querySelector<HTMLImageElement>('#board-sheet');
    return sheet !== null && !sheet.hidden && sheet.complete && sheet.naturalWidth > 0;
  });
  await decoded(mei.page);
  mkdirSync(dirname(values['board-out']), { recursive: true });
  await mei.page.locator('#board-dialog').screenshot({ path: values['board-out'] });
  process.stdout.write(`wrote ${values['board-out']}\n`);
} finally {
  await chromium.close();
  await studio.stop();
  await runtime.close();
}
