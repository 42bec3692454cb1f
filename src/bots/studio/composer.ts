import { fail, ok, type Result } from '../../result.ts';
import type { CommandRequest, ImageSource } from '../core/command.ts';
import type { CoreError } from '../core/errors.ts';

/** What the page's composer sends: the typed text and, at most, one image with an optional mask. */
export interface ComposerInput {
  readonly text: string;
  /** A candidate replied to, or an uploaded image. */
  readonly image?: ImageSource;
  /** A painted mask over that image (PNG, white = change). */
  readonly mask?: ImageSource;
  /** The Enhance toggle: as `--enhance` typed (a draft's switch; the core refuses it without an assistant). */
  readonly enhance?: boolean;
}

/**
 * The composer's text → a CommandRequest, the way a channel reads a message: `/draft …`, `/refine …`, `/edit …`
 * with inline flags (the core's grammar parses them). Text without a command is a reply-to-image edit when an image
 * is attached or replied to, and a draft otherwise. Chinese input methods type `／` for `/`; it counts.
 */
export function commandFromComposer(input: ComposerInput): Result<CommandRequest, CoreError> {
  const text = input.text.trim();
  const match = /^[/／]([^\s]*)\s*([\s\S]*)$/u.exec(text);
  const name = match ? match[1]!.normalize('NFKC').toLowerCase() : input.image ? 'edit' : 'draft';
  const rest = match ? match[2]! : text;
  if (name !== 'edit' && input.mask) return fail({ code: 'flag-not-for-role', params: { flag: 'mask', role: name } });
  if (input.enhance && (name === 'refine' || name === 'edit')) return fail({ code: 'flag-not-for-role', params: { flag: '--enhance', role: name } });
  switch (name) {
    case 'draft':
      if (input.image) return fail({ code: 'image-not-for-draft' });
      return ok({ kind: 'draft', text: rest, ...(input.enhance ? { options: { enhance: true } } : {}) });
    case 'refine':
      return ok({ kind: 'refine', text: rest, ...(input.image ? { image: input.image } : {}) });
    case 'edit':
      if (!input.image) return fail({ code: 'no-image' });
      return ok({ kind: 'edit', text: rest, image: input.image, ...(input.mask ? { mask: input.mask } : {}) });
    default:
      return fail({ code: 'unknown-command', params: { command: `/${name}`.slice(0, 40) } });
  }
}
