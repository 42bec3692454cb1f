import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logging.ts';
import { fail, ok, type Result } from '../../result.ts';
import type { PlatformFailure } from '../core/errors.ts';
import type { ReplyImage } from '../core/reply.ts';
import { renderBoard, type BoardReply } from './blocks.ts';
import { slackError, slackFailure } from './failure.ts';

export interface BoardDeps {
  readonly client: webApi.WebClient;
  readonly log: Logger;
  readonly secrets: readonly (string | null)[];
  /** The upload the job cards use (files.uploadV2 into a thread). */
  readonly upload: (where: { readonly channel: string; readonly threadTs: string }, image: ReplyImage) => Promise<void>;
}

/**
 * Posts a board in a channel: the title, the entries and their Refine and Vary controls as one message, and the
 * contact sheet in that message's thread, the way a card's images go into its thread. The posting's failure comes
 * back (the asker is told); a failed upload is logged, the board's words and buttons are still worth having.
 */
export async function postBoard(deps: BoardDeps, channel: string, board: BoardReply): Promise<Result<string, PlatformFailure>> {
  const message = renderBoard(board);
  let ts: string;
  try {
    const posted = await deps.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    ts = posted.ts;
  } catch (error) {
    return fail(slackFailure(error, deps.secrets));
  }
  // Slack cannot hide an image behind a spoiler, and Slack channels are never marked NSFW: such a sheet is not shown.
  if (board.image && !board.image.spoiler) {
    try {
      await deps.upload({ channel, threadTs: ts }, board.image);
    } catch (error) {
      deps.log.warn({ err: slackError(error, deps.secrets), channel }, 'could not upload the board’s contact sheet');
    }
  }
  return ok(ts);
}
