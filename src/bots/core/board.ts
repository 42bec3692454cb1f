import type { BoardEntry } from '../../engine/engine.ts';
import type { JobHistory, JobRecord } from '../../engine/history.ts';
import { describeNoise } from '../../engine/noise-spec.ts';
import { fail, ok, type Result } from '../../result.ts';
import { buttonId, menuId, type ButtonAction } from './buttons.ts';
import type { Locale } from './command.ts';
import { contactSheet } from './contact-sheet.ts';
import type { CoreError } from './errors.ts';
import type { Reply, ReplyButton, ReplyMenuOption } from './reply.ts';
import { text } from './texts.ts';

/** How a platform lets people vote, for the empty board's hint. */
export type VoteGesture = 'reactions' | 'control' | 'command';

/** A board's window: `--since 2h`, `7d`, `30m`, `1w`, or in Chinese `2小时`, `7天`; up to 90 days. */
export interface BoardWindow {
  readonly ms: number;
  /** As the user wrote it, normalised ("2h", "7d"), for the title. */
  readonly label: string;
}

export const DEFAULT_WINDOW: BoardWindow = { ms: 24 * 3_600_000, label: '24h' };
const MAX_WINDOW_MS = 90 * 86_400_000;
const UNITS: Readonly<Record<string, { ms: number; short: string }>> = {
  m: { ms: 60_000, short: 'm' },
  min: { ms: 60_000, short: 'm' },
  分钟: { ms: 60_000, short: 'm' },
  h: { ms: 3_600_000, short: 'h' },
  小时: { ms: 3_600_000, short: 'h' },
  d: { ms: 86_400_000, short: 'd' },
  天: { ms: 86_400_000, short: 'd' },
  w: { ms: 7 * 86_400_000, short: 'w' },
  周: { ms: 7 * 86_400_000, short: 'w' },
};

/** The window text (`2h`, `--since 7d`, empty for the default). */
export function parseWindow(input: string): Result<BoardWindow, CoreError> {
  const raw = input.normalize('NFKC').trim().replace(/^(?:--|——|—|–)since\s*/iu, '').trim();
  if (raw === '') return ok(DEFAULT_WINDOW);
  const match = /^(\d{1,4})\s*([a-z]+|分钟|小时|天|周)$/iu.exec(raw);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const amount = match ? Number(match[1]) : 0;
  if (!unit || amount <= 0 || amount * unit.ms > MAX_WINDOW_MS) return fail({ code: 'bad-window', params: { value: raw } });
  return ok({ ms: amount * unit.ms, label: `${amount}${unit.short}` });
}

/** One candidate on the board, with what the team built on it. */
export interface BoardItem {
  readonly rank: number;
  readonly record: JobRecord;
  readonly index: number;
  readonly votes: number;
  /** The stored file, null when it was never kept. */
  readonly path: string | null;
  /** Flagged but shown behind a spoiler where it was posted: the sheet that holds it goes behind one too. */
  readonly spoiler: boolean;
  /** Who refined, varied or edited this candidate, by action (names as the platform gave them). */
  readonly builtOn: ReadonlyMap<string, readonly string[]>;
}

/** The board's entries: each voted candidate's job, still delivered, with who built on it. */
export function boardItems(entries: readonly BoardEntry[], history: JobHistory): BoardItem[] {
  const items: BoardItem[] = [];
  for (const entry of entries) {
    const record = history.get(entry.jobId);
    const image = record?.result?.images.find((i) => i.index === entry.candidate);
    if (!record || !image || image.withheld) continue;
    const builtOn = new Map<string, string[]>();
    for (const child of history.children(record.id)) {
      if (child.parentIndex !== entry.candidate || child.action === null || child.action === 'reroll' || child.action === 'draft') continue;
      const names = builtOn.get(child.action) ?? [];
      const name = child.owner.name ?? child.owner.userId;
      if (!names.includes(name)) names.push(name);
      builtOn.set(child.action, names);
    }
    items.push({ rank: items.length + 1, record, index: entry.candidate, votes: entry.votes, path: image.path, spoiler: image.spoiler, builtOn });
  }
  return items;
}

function entryLine(locale: Locale, item: BoardItem): string {
  const { record } = item;
  const image = record.result!.images.find((i) => i.index === item.index)!;
  const built = [...item.builtOn].map(([action, names]) => text(locale, `board.built.${action as 'refine' | 'vary' | 'edit'}`, { names: names.join(', ') }));
  return text(locale, 'board.entry', {
    rank: item.rank,
    votes: item.votes,
    prompt: image.prompt.replace(/\s+/g, ' ').trim().slice(0, 160),
    seed: describeNoise(image.noise),
    model: record.result!.meta.model,
    by: record.owner.name ?? record.owner.userId,
    built: built.length > 0 ? ` · ${built.join(' · ')}` : '',
  });
}

const boardButton = (locale: Locale, action: ButtonAction, item: BoardItem): ReplyButton => ({
  id: buttonId(action, item.record.id, item.index),
  action,
  label: text(locale, `board.${action as 'refine' | 'vary-subtle' | 'vary-strong'}`, { n: item.rank }),
  style: action === 'refine' ? 'primary' : 'secondary',
  ownerOnly: false,
});

/** The board as a reply: a title, a line per entry, the contact sheet, Refine per entry and Vary in the menu. */
export async function renderBoard(locale: Locale, items: readonly BoardItem[], window: BoardWindow, gesture: VoteGesture): Promise<Extract<Reply, { kind: 'board' }>> {
  if (items.length === 0) {
    return { kind: 'board', text: text(locale, 'board.empty', { window: window.label, how: text(locale, `board.how.${gesture}`) }), entries: [], image: null, buttons: [], menu: null };
  }
  const sheet = await contactSheet(items.map((item) => ({ path: item.path, rank: item.rank })));
  const option = (action: ButtonAction, item: BoardItem): ReplyMenuOption => {
    const { id, label } = boardButton(locale, action, item);
    return { id, action, label, ownerOnly: false };
  };
  return {
    kind: 'board',
    text: text(locale, 'board.title', { window: window.label, count: items.length }),
    entries: items.map((item) => ({ rank: item.rank, jobId: item.record.id, index: item.index, votes: item.votes, line: entryLine(locale, item) })),
    image: { name: 'board.png', png: sheet, spoiler: items.some((i) => i.spoiler), alt: text(locale, 'board.alt', { count: items.length }) },
    buttons: items.map((item) => boardButton(locale, 'refine', item)),
    menu: {
      id: menuId(`board${items[0]!.record.id}`),
      placeholder: text(locale, 'board.more'),
      options: items.flatMap((item) => [option('vary-subtle', item), option('vary-strong', item)]),
    },
  };
}
