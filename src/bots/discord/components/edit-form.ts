import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import type { Locale } from '../../core/command.ts';
import { parseValue } from '../../core/grammar.ts';
import { OPTION_BY_NAME } from '../../core/options.ts';
import { errorText, text } from '../../core/texts.ts';
import type { HandlerContext, Intent } from '../intent.ts';
import type { ImageSource } from '../../core/command.ts';
import { attachmentSource, type OwnResult } from '../images.ts';

/**
 * The "Edit image" form: asks for the instruction (and an optional region, and which candidate when the image is a
 * grid of several). Its custom id says which image: `zf:j:<jobId>:<indices>` for one of this bot's results (works
 * after a restart), `zf:u:<key>` for someone's upload (remembered in EditForms).
 */
const PREFIX = 'zf:';
const FIELD = { instruction: 'instruction', region: 'region', candidate: 'candidate' } as const;

export type FormTarget = { readonly kind: 'job'; readonly result: OwnResult } | { readonly kind: 'upload'; readonly key: string };

function customId(target: FormTarget): string {
  return target.kind === 'job' ? `${PREFIX}j:${target.result.jobId}:${target.result.indices.join('')}` : `${PREFIX}u:${target.key}`;
}

function field(label: string, input: Record<string, unknown>): APIModalInteractionResponseCallbackData['components'][number] {
  return { type: ComponentType.Label, label: label.slice(0, 45), component: { type: ComponentType.TextInput, ...input } } as APIModalInteractionResponseCallbackData['components'][number];
}

export function editForm(locale: Locale, target: FormTarget, maxPromptChars: number): APIModalInteractionResponseCallbackData {
  const several = target.kind === 'job' && target.result.indices.length > 1;
  const last = target.kind === 'job' ? Math.max(...target.result.indices) + 1 : 1;
  return {
    custom_id: customId(target),
    title: text(locale, 'discord.modal.title'),
    components: [
      field(text(locale, 'discord.modal.instruction'), {
        custom_id: FIELD.instruction,
        style: TextInputStyle.Paragraph,
        required: true,
        max_length: Math.min(4000, maxPromptChars),
      }),
      field(text(locale, 'discord.modal.region'), {
        custom_id: FIELD.region,
        style: TextInputStyle.Short,
        required: false,
        max_length: 40,
        placeholder: OPTION_BY_NAME.get('region')!.description[locale].slice(0, 100),
      }),
      ...(several
        ? [
            field(text(locale, 'discord.modal.candidate', { max: last }), {
              custom_id: FIELD.candidate,
              style: TextInputStyle.Short,
              required: false,
              max_length: 2,
              placeholder: text(locale, 'discord.modal.candidate.all'),
            }),
          ]
        : []),
    ],
  };
}

export const isEditFormId = (id: string): boolean => id.startsWith(PREFIX);

/** A submitted form → an edit job (or a refusal: expired form, bad region or candidate). */
export function handleEditForm(ctx: HandlerContext, id: string, fields: ReadonlyMap<string, string>): Intent {
  const refuse = (text: string): Intent => ({ kind: 'refuse', text });
  let image: ImageSource;
  let candidate: number | undefined;
  const job = /^zf:j:([A-Za-z0-9]{4,32}):(\d{1,8})$/.exec(id);
  const upload = /^zf:u:([A-Za-z0-9_-]{6,32})$/.exec(id);
  if (job) {
    // Blank: every candidate (one job, one grid back); a number: that one — the same rule as `#n` in a reply.
    const indices = [...job[2]!].map(Number);
    const raw = fields.get(FIELD.candidate)?.trim() ?? '';
    if (raw !== '') {
      const max = Math.max(...indices) + 1;
      const flag = text(ctx.locale, 'discord.modal.candidate', { max });
      const n = Number(raw.normalize('NFKC'));
      if (!Number.isInteger(n)) return refuse(errorText(ctx.locale, { code: 'not-a-number', params: { flag, value: raw, kind: 'integer' } }));
      if (n < 1 || n > max) return refuse(errorText(ctx.locale, { code: 'option-out-of-range', params: { flag, value: n, min: 1, max } }));
      // A number between the delivered ones is a candidate the content filter withheld.
      if (!indices.includes(n - 1)) return refuse(errorText(ctx.locale, { code: 'input-blocked', message: 'withheld candidate' }));
      candidate = n;
    }
    image = { jobId: job[1]! };
  } else if (upload) {
    const attachment = ctx.forms.get(upload[1]!);
    if (!attachment) return refuse(text(ctx.locale, 'discord.error.form-expired'));
    image = attachmentSource(attachment);
  } else {
    return refuse(text(ctx.locale, 'discord.error.form-expired'));
  }
  const region = fields.get(FIELD.region)?.trim() ?? '';
  const parsedRegion = region === '' ? undefined : parseValue(OPTION_BY_NAME.get('region')!, region);
  if (parsedRegion && !parsedRegion.ok) return refuse(errorText(ctx.locale, parsedRegion.error));
  const options = parsedRegion ? { region: String(parsedRegion.value) } : {};
  return { kind: 'job', command: { kind: 'edit', text: fields.get(FIELD.instruction) ?? '', options, image, ...(candidate !== undefined ? { candidate } : {}) } };
}
