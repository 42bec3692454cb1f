import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../../src/bots/core/reply.ts';
import type { DiscordDelivery } from '../../../src/bots/discord/delivery.ts';
import { PlatformError, type PlatformFailure } from '../../../src/bots/core/errors.ts';
import { JobMessage, TOKEN_SAFE_MS } from '../../../src/bots/discord/job-message.ts';
import type { RenderedMessage } from '../../../src/bots/discord/render.ts';
import type { DiscordTransport, Sent } from '../../../src/bots/discord/transport.ts';
import { createLogger } from '../../../src/logging.ts';

/**
 * The token-expiry state machine of a job's messages, against a transport that records calls and answers as told
 * (the e2e suite covers the same paths through discord.js and the fake server; these pin the edge cases).
 */
type Call = { op: keyof DiscordTransport; target?: string; replyTo?: string; content?: string; fileBytes?: number[] };

class RecordingTransport implements DiscordTransport {
  readonly calls: Call[] = [];
  /** Answers per operation, consumed in order; missing → success. */
  readonly failures = new Map<keyof DiscordTransport, PlatformFailure[]>();
  #id = 900;

  #answer<T>(op: keyof DiscordTransport, value: T): Sent<T> {
    const failure = this.failures.get(op)?.shift();
    return failure ? { ok: false, error: failure } : { ok: true, value };
  }

  #record(op: keyof DiscordTransport, message?: RenderedMessage, target?: string, replyTo?: string): void {
    this.calls.push({
      op,
      ...(target ? { target } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(message ? { content: message.content, fileBytes: message.files.map((f) => f.data.byteLength) } : {}),
    });
  }

  async editOriginal(_ref: unknown, message: RenderedMessage): Promise<Sent<{ id: string }>> {
    this.#record('editOriginal', message);
    return this.#answer('editOriginal', { id: '100' });
  }
  async fetchOriginal(): Promise<Sent<{ id: string }>> {
    this.#record('fetchOriginal');
    return this.#answer('fetchOriginal', { id: '100' });
  }
  async deleteOriginal(): Promise<Sent<void>> {
    this.#record('deleteOriginal');
    return this.#answer('deleteOriginal', undefined);
  }
  async followUp(_ref: unknown, message: RenderedMessage): Promise<Sent<{ id: string }>> {
    this.#record('followUp', message);
    return this.#answer('followUp', { id: String(++this.#id) });
  }
  async postMessage(channelId: string, message: RenderedMessage, replyTo?: string): Promise<Sent<{ id: string }>> {
    this.#record('postMessage', message, channelId, replyTo);
    return this.#answer('postMessage', { id: String(++this.#id) });
  }
  async editMessage(_channelId: string, messageId: string, message: RenderedMessage): Promise<Sent<void>> {
    this.#record('editMessage', message, messageId);
    return this.#answer('editMessage', undefined);
  }
  async stripButtons(_channelId: string, messageId: string): Promise<Sent<void>> {
    this.#record('stripButtons', undefined, messageId);
    return this.#answer('stripButtons', undefined);
  }
  async deleteMessage(_channelId: string, messageId: string): Promise<Sent<void>> {
    this.#record('deleteMessage', undefined, messageId);
    return this.#answer('deleteMessage', undefined);
  }
  async react(_channelId: string, messageId: string, emoji: string): Promise<Sent<void>> {
    this.calls.push({ op: 'react', target: messageId, content: emoji });
    return this.#answer('react', undefined);
  }
}

const CREATED = 1_700_000_000_000;
const TOKEN = 'itok_secret_token_value_0123456789';

function delivery(fields: Partial<DiscordDelivery> = {}): DiscordDelivery {
  return {
    v: 1,
    channelId: '200',
    guildId: '300',
    uploadLimit: 10 * 2 ** 20,
    interaction: { applicationId: '400', token: TOKEN, createdAt: CREATED },
    replyTo: '100',
    ...fields,
  };
}

const statusReply: Reply = { kind: 'status', jobId: 'abcd1234', phase: 'running', text: 'Drafting · step 1/8', prompt: 'a fox', buttons: [] };
const resultReply = (png: Buffer): Reply => ({
  kind: 'result',
  jobId: 'abcd1234',
  parentId: null,
  prompt: 'a fox',
  text: 'footer',
  notes: [],
  image: { name: 'abcd1234-grid.png', png, spoiler: false, alt: 'a fox' },
  candidates: [],
  buttons: [],
  menu: null,
  votes: [0],
  votesLine: null,
  origin: null,
});
const tiny = Buffer.from('tiny png stand-in');

function setup(fields: Partial<DiscordDelivery> = {}, now = CREATED + 1000): { transport: RecordingTransport; message: JobMessage; clock: { now: number } } {
  const transport = new RecordingTransport();
  const clock = { now };
  const message = new JobMessage({ transport, delivery: delivery(fields), locale: 'en', log: createLogger('silent'), now: () => clock.now });
  return { transport, message, clock };
}

describe('JobMessage', () => {
  it('edits the interaction response while the token is fresh', async () => {
    const { transport, message } = setup();
    await message.show(statusReply);
    await message.show(resultReply(tiny));
    expect(transport.calls.map((c) => c.op)).toEqual(['editOriginal', 'editOriginal']);
  });

  it('switches to channel messages before the token expires: status into the response, result as a reply', async () => {
    const { transport, message, clock } = setup();
    await message.show(statusReply);
    clock.now = CREATED + TOKEN_SAFE_MS + 1;
    await message.show(statusReply);
    await message.show(resultReply(tiny));
    expect(transport.calls.map((c) => [c.op, c.target, c.replyTo])).toEqual([
      ['editOriginal', undefined, undefined],
      ['editMessage', '100', undefined],
      ['postMessage', '200', '100'],
      ['stripButtons', '100', undefined],
    ]);
  });

  it('switches when Discord says the token is invalid (50027), and posts its own card when the response cannot be edited', async () => {
    const { transport, message } = setup();
    transport.failures.set('editOriginal', [{ code: 50027, status: 401, message: 'Invalid Webhook Token' }]);
    transport.failures.set('editMessage', [{ code: 50005, status: 403, message: 'Cannot edit a message authored by another user' }]);
    await message.show(statusReply);
    await message.show(statusReply);
    await message.show(resultReply(tiny));
    expect(transport.calls.map((c) => [c.op, c.target, c.replyTo])).toEqual([
      ['editOriginal', undefined, undefined],
      ['editMessage', '100', undefined],
      ['postMessage', '200', '100'],
      ['editMessage', '901', undefined],
      ['editMessage', '901', undefined],
    ]);
  });

  it('a mention edit (no interaction) posts a card replying to the user and edits it into the result', async () => {
    const { transport, message } = setup({ interaction: null, replyTo: '555' });
    await message.show(statusReply);
    await message.show(resultReply(tiny));
    expect(transport.calls.map((c) => [c.op, c.target, c.replyTo])).toEqual([
      ['postMessage', '200', '555'],
      ['editMessage', '901', undefined],
    ]);
  });

  it('downscales when Discord still finds the file too large (40005), once', async () => {
    const noise = await sharp(Buffer.from(Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 128, height: 128, channels: 3 } })
      .png()
      .toBuffer();
    const { transport, message } = setup({ uploadLimit: noise.byteLength + 10 });
    transport.failures.set('editOriginal', [{ code: 40005, status: 413, message: 'Request entity too large' }]);
    await message.show(resultReply(noise));
    const sizes = transport.calls.map((c) => c.fileBytes?.[0] ?? 0);
    expect(sizes[0]).toBe(noise.byteLength);
    expect(sizes[1]).toBeLessThanOrEqual(Math.floor((noise.byteLength + 10) / 4));
  });

  it('reports the message that shows the result, whichever way it went out, with the delivered candidates', async () => {
    const image = (n: number): NonNullable<Extract<Reply, { kind: 'result' }>['image']> => ({ name: `c${n}.png`, png: tiny, spoiler: false, alt: 'a fox' });
    // Candidate 2 of 3 was withheld: no reaction may be offered for it.
    const withCandidates: Reply = { ...(resultReply(tiny) as Extract<Reply, { kind: 'result' }>), candidates: [image(1), null, image(3)] };
    const cases: { fields: Partial<DiscordDelivery>; late: boolean; message: string }[] = [
      { fields: {}, late: false, message: '100' },
      { fields: {}, late: true, message: '901' },
      { fields: { interaction: null, replyTo: '555' }, late: false, message: '901' },
    ];
    for (const { fields, late, message: expected } of cases) {
      const shown: unknown[] = [];
      const transport = new RecordingTransport();
      const clock = { now: CREATED + 1000 };
      const message = new JobMessage({ transport, delivery: delivery(fields), locale: 'en', log: createLogger('silent'), now: () => clock.now, onResultShown: (s) => shown.push(s) });
      await message.show(statusReply);
      expect(shown).toEqual([]);
      if (late) clock.now = CREATED + TOKEN_SAFE_MS + 1;
      await message.show(withCandidates);
      expect(shown).toEqual([{ jobId: 'abcd1234', channelId: '200', messageId: expected, candidates: [0, 2] }]);
    }
  });

  it('links the parent in a result’s origin line through the label it is given', async () => {
    const transport = new RecordingTransport();
    const message = new JobMessage({
      transport,
      delivery: delivery(),
      locale: 'zh-CN',
      log: createLogger('silent'),
      now: () => CREATED + 1000,
      parentLabel: (parentId, locale) => `[${locale} ${parentId}](https://discord.com/channels/1/2/3)`,
    });
    await message.show({ ...(resultReply(tiny) as Extract<Reply, { kind: 'result' }>), origin: { action: 'vary', parentId: 'parent01', parentIndex: 1 } });
    expect(transport.calls[0]!.content).toContain('-# 变体自 [zh-CN parent01](https://discord.com/channels/1/2/3) 的 #2');
  });

  it('throws a PlatformError that names the code and never the token on other failures', async () => {
    const { transport, message } = setup();
    transport.failures.set('editOriginal', [{ code: 50013, status: 403, message: 'Missing Permissions' }]);
    const error = await message.show(statusReply).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PlatformError);
    expect(String((error as Error).message)).toContain('50013');
    expect(JSON.stringify(error) + String(error)).not.toContain(TOKEN);
  });
});
