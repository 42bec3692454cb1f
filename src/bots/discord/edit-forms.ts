import { randomBytes } from 'node:crypto';
import type { AttachmentRef } from './images.ts';

/**
 * The images behind open "Edit image" forms that are not this bot's results (those travel in the form's custom
 * id). The form's submission does not carry the target message, and without the Message Content intent the bot
 * cannot read it back later, so the attachment is remembered here for as long as the form can reasonably be open.
 */
export interface EditFormsOptions {
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class EditForms {
  readonly #forms = new Map<string, { readonly attachment: AttachmentRef; readonly expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  /** Defaults: 15 minutes, 1000 open forms. */
  constructor(options: EditFormsOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 15 * 60_000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Remembers an attachment; returns the key for the form's custom id. */
  add(attachment: AttachmentRef): string {
    const now = this.#now();
    for (const [key, form] of this.#forms) if (form.expiresAt <= now) this.#forms.delete(key);
    while (this.#forms.size >= this.#maxEntries) this.#forms.delete(this.#forms.keys().next().value as string);
    const key = randomBytes(9).toString('base64url');
    this.#forms.set(key, { attachment, expiresAt: now + this.#ttlMs });
    return key;
  }

  get(key: string): AttachmentRef | undefined {
    const form = this.#forms.get(key);
    return form && form.expiresAt > this.#now() ? form.attachment : undefined;
  }

  clear(): void {
    this.#forms.clear();
  }
}
