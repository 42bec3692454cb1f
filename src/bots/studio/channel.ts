import type { Locale } from '../core/command.ts';
import type { ServerMessage } from './protocol.ts';

/** One open tab: a user of the studio, with the language of its browser. */
export interface Tab {
  readonly userId: string;
  readonly name: string;
  readonly locale: Locale;
  send(message: ServerMessage): void;
}

/**
 * The studio is one channel: every tab sees every job's card (several tabs are several users sharing the queue),
 * while refusals go only to the tab that asked.
 */
export class StudioChannel {
  readonly #tabs = new Set<Tab>();

  join(tab: Tab): void {
    this.#tabs.add(tab);
  }

  leave(tab: Tab): void {
    this.#tabs.delete(tab);
  }

  broadcast(message: ServerMessage): void {
    for (const tab of this.#tabs) tab.send(message);
  }
}
