import type { JobRecord } from '../../../src/engine/history.ts';
import type { ApiCall, FakeMessage, FakeSlack } from './fake-slack.ts';
import { actionPayload, actionIds, eventBody, formBody, interactionBody, postSigned, slashCommandBody, waitFor, type SlashFields } from './slack-requests.ts';

/**
 * What a test does as Slack's people, against one running adapter's HTTP endpoint: slash commands, button and menu
 * presses, events (mentions, reactions), all signed; and what it reads back: cards, their jobs, their results.
 */
export class SlackSession {
  readonly #fake: FakeSlack;
  readonly #secret: string;
  readonly #jobs: () => readonly JobRecord[];
  #seq = 0;
  endpoint: string;

  constructor(fake: FakeSlack, options: { readonly endpoint: string; readonly secret: string; readonly jobs: () => readonly JobRecord[] }) {
    this.#fake = fake;
    this.endpoint = options.endpoint;
    this.#secret = options.secret;
    this.#jobs = options.jobs;
  }

  async slash(command: SlashFields['command'], text: string, user: string, channel: string): Promise<{ status: number; body: string; responseId: string }> {
    const responseId = `t${++this.#seq}`;
    const body = slashCommandBody({ command, text, user, channel, responseUrl: `${this.#fake.base}/response/${responseId}` }, this.#fake.teamId);
    const response = await postSigned(this.endpoint, formBody(body), 'application/x-www-form-urlencoded', { secret: this.#secret });
    return { ...response, responseId };
  }

  /** The ephemeral answer sent to a response_url. */
  responseText(responseId: string): Promise<string> {
    return waitFor(() => this.#fake.responses.find((r) => r.id === responseId)?.body.text as string | undefined, `a reply at response_url ${responseId}`);
  }

  postEvent(event: object): Promise<{ status: number; body: string }> {
    return postSigned(this.endpoint, JSON.stringify(eventBody(this.#fake.teamId, this.#fake.botUserId, event as Record<string, unknown>)), 'application/json', { secret: this.#secret });
  }

  /** `user` presses `actionId` (a button, or a menu option) on `message`. */
  async click(actionId: string, user: string, channel: string, message: FakeMessage): Promise<{ status: number; body: string; responseId: string }> {
    const responseId = `t${++this.#seq}`;
    const payload = {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: this.#fake.teamId },
      api_app_id: 'A0TEST',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
      trigger_id: `trigger-${responseId}`,
      team: { id: this.#fake.teamId, domain: 'fake' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel, name: 'general' },
      message: { type: 'message', user: this.#fake.botUserId, ts: message.ts, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}), text: message.text, blocks: message.blocks },
      state: { values: {} },
      response_url: `${this.#fake.base}/response/${responseId}`,
      actions: [actionPayload(actionId, message)],
    };
    const response = await postSigned(this.endpoint, interactionBody(payload), 'application/x-www-form-urlencoded', { secret: this.#secret });
    return { ...response, responseId };
  }

  /** The job whose card is the message `ts`. */
  jobOfCard(ts: string): Promise<JobRecord> {
    return waitFor(() => this.#jobs().find((r) => cardTs(r) === ts), `the job of card ${ts}`);
  }

  /** The card the bot posted after `after` calls whose text carries `marker`, and its job. */
  async cardFor(marker: string, channel: string, after = 0): Promise<{ ts: string; jobId: string }> {
    const post = await waitFor(
      () => this.#fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.args.channel === channel && String(c.args.text).includes(marker) && c.result?.ok),
      `the card for "${marker}"`,
    );
    const ts = String(post.result!.ts);
    return { ts, jobId: (await this.jobOfCard(ts)).id };
  }

  /** A card the bot posted into `threadTs` after `after` calls, and its job. */
  async cardInThread(channel: string, threadTs: string, after: number): Promise<{ ts: string; jobId: string }> {
    const post = await waitFor(
      () => this.#fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.args.channel === channel && c.args.thread_ts === threadTs && c.result?.ok && this.#jobs().some((r) => cardTs(r) === c.result!.ts)),
      `a card in thread ${threadTs}`,
    );
    const ts = String(post.result!.ts);
    return { ts, jobId: (await this.jobOfCard(ts)).id };
  }

  /** Waits until the card shows its job's result (its menu offers Reroll). */
  resultCard(channel: string, ts: string, jobId: string): Promise<FakeMessage> {
    return waitFor(() => {
      const message = this.#fake.message(channel, ts);
      return actionIds(message).includes(`z:reroll:${jobId}`) ? message : undefined;
    }, `the result card of ${jobId}`);
  }

  /** /draft, then its result on its card. */
  async draft(text: string, user: string, channel: string): Promise<{ jobId: string; ts: string; card: FakeMessage }> {
    const after = this.#fake.calls.length;
    const response = await this.slash('/draft', text, user, channel);
    if (response.status !== 200) throw new Error(`/draft answered ${response.status}`);
    const { ts, jobId } = await this.cardFor(text.split(' --')[0]!, channel, after);
    return { jobId, ts, card: await this.resultCard(channel, ts, jobId) };
  }

  /** The upload of a file named `name` (after `after` calls): its bytes and the completeUploadExternal call that posted it. */
  async upload(name: string, after = 0): Promise<{ bytes: Buffer; complete: ApiCall }> {
    const fake = this.#fake;
    const calls = (method: string): ApiCall[] => fake.calls.slice(after).filter((c) => c.method === method);
    const fileId = await waitFor(() => calls('files.getUploadURLExternal').find((c) => c.args.filename === name && c.result?.ok)?.result!.file_id as string | undefined, `the upload of ${name}`);
    const complete = await waitFor(() => calls('files.completeUploadExternal').find((c) => (c.args.files as { id: string }[])[0]?.id === fileId), `${name} posted`);
    return { bytes: fake.uploads.find((u) => u.fileId === fileId)!.bytes, complete };
  }
}

export const cardTs = (record: JobRecord): string | undefined => (record.delivery as { data?: { ts?: string } } | null)?.data?.ts;
