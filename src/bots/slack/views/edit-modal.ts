import type { types, ViewOutput } from '@slack/bolt';
import type { Locale } from '../../core/command.ts';
import { OPTIONS } from '../../core/options.ts';
import { text } from '../../core/texts.ts';
import type { SlackFile } from '../images.ts';

export const EDIT_MODAL_CALLBACK = 'edit_image_modal';

/** What the "Edit image" modal is about; it travels in the view's private_metadata (Slack keeps it server-side). */
export interface EditTarget {
  readonly channel: string;
  /** The thread the result goes into: the image message's thread, or the message itself. */
  readonly threadTs: string;
  readonly file: SlackFile;
  /** The candidates to choose from, when the image is one of the bot's grids (none chosen: every one). */
  readonly candidates?: readonly number[];
}

export interface EditSubmission {
  readonly target: EditTarget;
  readonly instruction: string;
  readonly region?: string;
  readonly candidate?: number;
}

const REGION = OPTIONS.find((o) => o.name === 'region')!;
const plain = (body: string): types.PlainTextElement => ({ type: 'plain_text', text: body, emoji: true });

/** The modal: the instruction (inline flags allowed), an optional region, and which candidate of a grid. */
export function editModal(locale: Locale, target: EditTarget): types.ModalView {
  const file: SlackFile = {
    ...(target.file.id ? { id: target.file.id } : {}),
    ...(target.file.name ? { name: target.file.name } : {}),
    ...(target.file.user ? { user: target.file.user } : {}),
    ...(target.file.mimetype ? { mimetype: target.file.mimetype } : {}),
    ...(target.file.url_private_download ? { url_private_download: target.file.url_private_download } : target.file.url_private ? { url_private: target.file.url_private } : {}),
  };
  const blocks: types.KnownBlock[] = [
    {
      type: 'input',
      block_id: 'instruction',
      label: plain(text(locale, 'slack.modal.instruction')),
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 3000 },
    },
    {
      type: 'input',
      block_id: 'region',
      optional: true,
      label: plain(REGION.description[locale]),
      element: { type: 'plain_text_input', action_id: 'value', max_length: 100 },
    },
  ];
  if (target.candidates && target.candidates.length > 1) {
    const options = target.candidates.map((index) => ({ text: plain(String(index + 1)), value: String(index + 1) }));
    blocks.push({
      type: 'input',
      block_id: 'candidate',
      optional: true,
      label: plain(text(locale, 'slack.modal.candidate')),
      element: { type: 'static_select', action_id: 'value', options },
    });
  }
  return {
    type: 'modal',
    callback_id: EDIT_MODAL_CALLBACK,
    title: plain(text(locale, 'slack.modal.title')),
    submit: plain(text(locale, 'slack.modal.submit')),
    close: plain(text(locale, 'button.cancel')),
    private_metadata: JSON.stringify({ ...target, file }),
    blocks,
  };
}

/** Reads a submitted modal; undefined when it is not one this bot opened intact. */
export function readEditSubmission(view: ViewOutput): EditSubmission | undefined {
  let target: EditTarget;
  try {
    target = JSON.parse(view.private_metadata) as EditTarget;
  } catch {
    return undefined;
  }
  if (typeof target?.channel !== 'string' || typeof target.threadTs !== 'string' || typeof target.file !== 'object' || target.file === null) return undefined;
  const values = view.state.values;
  const instruction = values.instruction?.value?.value ?? '';
  const region = values.region?.value?.value?.trim();
  const candidate = values.candidate?.value?.selected_option?.value;
  return {
    target,
    instruction,
    ...(region ? { region } : {}),
    ...(candidate !== undefined && /^[1-9]$/.test(candidate) ? { candidate: Number(candidate) } : {}),
  };
}
