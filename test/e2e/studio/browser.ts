import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * A local Chromium driven by playwright-core (never a downloaded browser), for the studio's end-to-end tests and
 * the README screenshot: CHROMIUM_PATH (e.g. Google Chrome on macOS), else Debian's.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The 2-core CI machine is shared with model training: waits are generous, and nothing asserts on time. */
export const TEST_TIMEOUT_MS = 180_000;
export const START_TIMEOUT_MS = 120_000;
/** For expect.poll (its own default is one second). */
export const WAIT = { timeout: 60_000, interval: 50 } as const;

export interface StudioBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/** playwright gives every launch a fresh temporary profile of its own, removed on close. */
export async function launchChromium(): Promise<StudioBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  return { browser, close: () => browser.close() };
}

/** One status card as the page showed it, recorded by a MutationObserver in the page (see recordStatus). */
export interface SeenStatus {
  readonly jobId: string;
  readonly text: string;
  readonly step: number | null;
  readonly total: number | null;
}

/**
 * Installed before the page's own scripts: records every status card the feed renders, so a test can assert that
 * live states were on screen even when a job on the fixture model takes a fraction of a second.
 */
function recordStatus(): void {
  const seen: SeenStatus[] = [];
  (window as unknown as { __seenStatus: SeenStatus[] }).__seenStatus = seen;
  const observe = (): void => {
    new MutationObserver(() => {
      for (const card of Array.from(document.querySelectorAll<HTMLElement>('article.card[data-state="status"]'))) {
        const progress = card.querySelector<HTMLProgressElement>('progress');
        const text = card.querySelector('.status-text')?.textContent ?? '';
        const entry = { jobId: card.dataset.jobId ?? '', text, step: progress ? progress.value : null, total: progress ? progress.max : null };
        const last = seen.findLast((s) => s.jobId === entry.jobId);
        if (!last || last.text !== entry.text || last.step !== entry.step) seen.push(entry);
      }
    }).observe(document.body, { childList: true, subtree: true });
  };
  if (document.body) observe();
  else document.addEventListener('DOMContentLoaded', observe);
}

/**
 * A new tab (its own context, so its own language and its own user) with the feed connected, renamed through the
 * header when a name is given (else it keeps the name the page chose).
 */
export async function openTab(browser: Browser, url: string, name?: string, locale = 'en-US'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT.timeout);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.addInitScript(recordStatus);
  await page.goto(url);
  await welcomed(page);
  if (name !== undefined) await rename(page, name);
  return { context, page };
}

/** Waits for the server's welcome: the history is on the page (the command help is filled from the same message). */
export async function welcomed(page: Page): Promise<void> {
  await page.waitForSelector('#connection[data-state="connected"]');
  await page.locator('#options dt').first().waitFor({ state: 'attached' });
}

/** Renames the tab's user the way a person does: click the name in the header, type, Enter. */
export async function rename(page: Page, name: string): Promise<void> {
  await page.click('#who');
  await page.fill('#name-input', name);
  await page.press('#name-input', 'Enter');
  await page.waitForFunction((expected) => {
    const who = document.getElementById('who');
    return who !== null && !who.hidden && who.textContent === expected;
  }, name);
}

/** Errors the page reported (script errors, failed loads, CSP violations). */
export function pageProblems(page: Page): readonly string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** Types a message in the composer and sends it with Enter. */
export async function send(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Ids of the cards in the feed, top to bottom. */
export function cardIds(page: Page): Promise<string[]> {
  return page.$$eval('article.card', (cards) => cards.map((c) => (c as HTMLElement).dataset.jobId ?? ''));
}

/** Waits for a card that was not there before (of this role) to reach a final state; returns its job id. */
export async function nextFinishedCard(page: Page, before: readonly string[], role: string): Promise<string> {
  const handle = await page.waitForFunction(
    ({ known, role }) => {
      const card = Array.from(document.querySelectorAll<HTMLElement>(`article.card[data-role="${role}"]`)).find((c) => !known.includes(c.dataset.jobId ?? ''));
      return card && card.dataset.state !== 'status' ? card.dataset.jobId : undefined;
    },
    { known: [...before], role },
  );
  return (await handle.jsonValue()) as string;
}

/** Every <img> of a card has loaded real pixels (naturalWidth > 0). */
export async function imagesLoaded(page: Page, jobId: string, selector = 'img'): Promise<number[]> {
  const card = page.locator(`#job-${jobId}`);
  await card.scrollIntoViewIfNeeded();
  await page.waitForFunction(
    ({ jobId, selector }) => {
      const images = Array.from(document.querySelectorAll<HTMLImageElement>(`#job-${jobId} ${selector}`));
      return images.length > 0 && images.every((i) => i.complete);
    },
    { jobId, selector },
  );
  return page.$$eval(`#job-${jobId} ${selector}`, (images) => images.map((i) => (i as HTMLImageElement).naturalWidth));
}

/** The texts of the "only you can see this" messages in a tab. */
export function ephemeralTexts(page: Page): Promise<string[]> {
  return page.$$eval('.ephemeral .ephemeral-text', (items) => items.map((i) => i.textContent ?? ''));
}
