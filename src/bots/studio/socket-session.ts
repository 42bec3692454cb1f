import { WebSocket, type RawData } from 'ws';
import { localeFrom, type Locale } from '../core/command.ts';
import { INTERNAL_ERROR } from '../core/errors.ts';
import { errorText, text } from '../core/texts.ts';
import type { Logger } from '../../logging.ts';
import type { StudioChannel, Tab } from './channel.ts';
import { parseClientMessage, viewFor, type ServerMessage } from './protocol.ts';
import type { StudioIdentities } from './identities.ts';
import type { StudioBot } from './studio-bot.ts';

export interface SessionDeps {
  readonly bot: StudioBot;
  readonly channel: StudioChannel;
  readonly identities: StudioIdentities;
  readonly log: Logger;
}

/**
 * One tab's WebSocket. The first message names the tab (hello: user id, name, language); after that, commands and
 * button presses, one at a time in the order the tab sent them; votes and the panels' requests (board, history,
 * settings), likewise in order but in a line of their own, so they never wait behind a command the prompt assistant
 * is still rewriting; describes (beside both); and renames. Anything unreadable gets one message and changes nothing.
 */
export function attachSession(socket: WebSocket, deps: SessionDeps): void {
  let tab: Tab | undefined;
  let locale: Locale = 'en';
  // Two lines: commands and presses (which may wait a minute on the prompt assistant), and votes and panels.
  let actions: Promise<void> = Promise.resolve();
  let quick: Promise<void> = Promise.resolve();
  const votedBy = (jobId: string, userId: string): readonly number[] => (userId === '' ? [] : deps.bot.votedBy(jobId, userId));

  const send = (message: ServerMessage): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(viewFor(message, tab?.userId ?? '', votedBy)));
  };
  const refuse = (): void => send({ t: 'error', ref: null, text: text(locale, 'studio.bad-message') });

  socket.on('message', (data: RawData, isBinary: boolean) => {
    const parsed = parseClientMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
    if (!parsed.ok) return refuse();
    const message = parsed.value;
    if (message.t === 'hello') {
      // One user per connection: the hello comes once.
      if (tab) return refuse();
      locale = localeFrom(message.locale);
      if (!deps.identities.admit(message.userId)) {
        send({ t: 'error', ref: null, text: text(locale, 'studio.too-many-new-users') });
        socket.close(1013, 'try again later');
        return;
      }
      tab = { userId: message.userId, name: message.name, locale, send };
      deps.channel.join(tab);
      try {
        send(deps.bot.welcome(tab));
      } catch (error) {
        // The history comes from the journal, which may already be closed while the process shuts down.
        deps.log.warn({ err: error }, 'studio welcome failed');
        refuse();
      }
      return;
    }
    const current = tab;
    if (!current) return refuse();
    if (message.t === 'name') {
      // Commands already received keep the name they were sent under; the user id never changes.
      deps.channel.leave(current);
      tab = { ...current, name: message.name };
      deps.channel.join(tab);
      return;
    }
    if (message.t === 'describe') {
      // The assistant may take a minute: the tab's other messages (votes, panels, commands) do not wait behind it.
      void deps.bot.describe(current, message).catch((error: unknown) => {
        deps.log.error({ err: error, message: message.t }, 'studio message failed');
        send({ t: 'error', ref: message.ref, text: errorText(current.locale, INTERNAL_ERROR) });
      });
      return;
    }
    const handle = async (): Promise<void> => {
      try {
        switch (message.t) {
          case 'command':
            return await deps.bot.command(current, message);
          case 'button':
            return await deps.bot.button(current, message);
          case 'vote':
            return deps.bot.vote(current, message);
          case 'board':
            return await deps.bot.board(current, message);
          case 'lineage':
            return deps.bot.lineage(current, message);
          case 'settings':
            return deps.bot.settings(current, message);
        }
      } catch (error) {
        deps.log.error({ err: error, message: message.t }, 'studio message failed');
        send({ t: 'error', ref: message.ref, text: errorText(current.locale, INTERNAL_ERROR) });
      }
    };
    if (message.t === 'command' || message.t === 'button') actions = actions.then(handle);
    else quick = quick.then(handle);
  });
  socket.on('close', () => {
    if (tab) deps.channel.leave(tab);
  });
  socket.on('error', (error) => deps.log.debug({ err: error }, 'studio socket error'));
}
