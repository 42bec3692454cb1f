import { createHmac } from 'node:crypto';

/**
 * Requests as Slack sends them to an app's HTTP endpoint: form-encoded slash commands and interactions (no charset:
 * bolt compares the content type exactly), JSON events, all signed with the signing secret.
 */
export interface SignOptions {
  readonly secret: string;
  /** Seconds since the epoch; defaults to now. */
  readonly timestamp?: number;
}

export function sign(secret: string, timestamp: number, raw: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
}

export async function postSigned(url: string, raw: string, contentType: string, options: SignOptions): Promise<{ status: number; body: string }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    body: raw,
    headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(options.secret, timestamp, raw) },
  });
  return { status: response.status, body: await response.text() };
}

export interface SlashFields {
  readonly command: '/draft' | '/refine' | '/edit' | '/board' | '/settings';
  readonly text: string;
  readonly user: string;
  readonly channel: string;
  readonly responseUrl: string;
}

export function slashCommandBody(fields: SlashFields, teamId: string): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: teamId,
    team_domain: 'fake',
    channel_id: fields.channel,
    channel_name: 'general',
    user_id: fields.user,
    user_name: fields.user.toLowerCase(),
    command: fields.command,
    text: fields.text,
    api_app_id: 'A0TEST',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
  };
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function eventBody(teamId: string, botUserId: string, event: Record<string, unknown>): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: teamId,
    api_app_id: 'A0TEST',
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false }],
    event,
  };
}

/** Polls until `probe` returns a value (not undefined/false); generous by default, never a timing assertion. */
export async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 25_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Element = { type: string; action_id: string; options?: { value: string }[] };

/** Every action a message offers: its buttons' ids and its menus' option values, in order. */
export function actionIds(message: { readonly blocks?: readonly unknown[] } | undefined): string[] {
  return (message?.blocks ?? []).flatMap((b) =>
    (b as { type: string }).type === 'actions' ? (b as { elements: Element[] }).elements.flatMap((e) => (e.options ? e.options.map((o) => o.value) : [e.action_id])) : [],
  );
}

/** What a press of `actionId` sends: the button, or the menu holding it as an option with that option chosen. */
export function actionPayload(actionId: string, message: { readonly blocks?: readonly unknown[] }): Record<string, unknown> {
  const elements = (message.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Element[] }).elements : []));
  const menu = elements.find((e) => e.options?.some((o) => o.value === actionId));
  const common = { block_id: 'z-actions', action_ts: String(Date.now() / 1000) };
  if (!menu) return { type: 'button', action_id: actionId, value: actionId, text: { type: 'plain_text', text: 'x' }, ...common };
  return { type: 'static_select', action_id: menu.action_id, selected_option: { text: { type: 'plain_text', text: 'x' }, value: actionId }, ...common };
}
