import { randomBytes } from 'node:crypto';
import type { Reply } from '../core/reply.ts';
import { cardButton } from './cards.ts';
import type { AssistCard } from './protocol.ts';

type AssistReply = Extract<Reply, { kind: 'assisting' | 'suggestions' }>;

export function isAssistReply(reply: Reply): reply is AssistReply {
  return reply.kind === 'assisting' || reply.kind === 'suggestions';
}

/** A fresh id for an assistant's card: the hyphen keeps it apart from every job id. */
export const newAssistId = (): string => `assist-${randomBytes(6).toString('hex')}`;

/** Who asked, when: what an assistant's card shows besides the core's reply. */
export interface AssistMeta {
  readonly id: string;
  readonly owner: AssistCard['owner'];
  readonly createdAt: number;
}

/** The core's `assisting` or `suggestions` reply → the card every tab shows (the words stay plain text). */
export function assistCardFromReply(meta: AssistMeta, reply: AssistReply): AssistCard {
  const base = { id: meta.id, owner: meta.owner, createdAt: meta.createdAt, text: reply.text };
  if (reply.kind === 'assisting') return { ...base, task: reply.task, state: 'assisting', prompt: reply.prompt, suggestions: [], withheld: 0, notes: [] };
  return {
    ...base,
    task: 'describe',
    state: 'suggestions',
    prompt: '',
    suggestions: reply.prompts.map((prompt, i) => ({ prompt, button: cardButton(reply.buttons[i]!) })),
    withheld: reply.withheld,
    notes: reply.notes,
  };
}

/**
 * The assistant's cards the studio still shows, for tabs that connect later: those at work, and the latest
 * suggestions (their Draft buttons name a set kept in the journal). Only the newest `keep` suggestion cards stay.
 */
export class AssistCards {
  readonly #cards = new Map<string, AssistCard>();
  readonly #keep: number;

  constructor(keep: number) {
    this.#keep = keep;
  }

  set(card: AssistCard): void {
    this.#cards.delete(card.id);
    this.#cards.set(card.id, card);
    const done = [...this.#cards.values()].filter((c) => c.state === 'suggestions');
    for (const old of done.slice(0, Math.max(0, done.length - this.#keep))) this.#cards.delete(old.id);
  }

  delete(id: string): void {
    this.#cards.delete(id);
  }

  /** Oldest first. */
  list(): readonly AssistCard[] {
    return [...this.#cards.values()].sort((a, b) => a.createdAt - b.createdAt);
  }
}
