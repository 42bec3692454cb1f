/**
 * Slack text in both directions. Slack reads `&`, `<` and `>` as markup (`<@U…>` mentions, `<!channel>`, links), so
 * anything a user typed is escaped before the bot says it: the bot never pings anyone. Incoming text arrives with
 * those characters encoded, and with mentions and links in angle brackets; prompts want what the user typed.
 */

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts escaped text to `max` characters without splitting an entity (Slack refuses oversize block text). */
export function clip(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

/** A block quote of user text, escaped, each line quoted, within Slack's block text limit. */
export function quote(text: string, max = 2900): string {
  const lines = escapeMrkdwn(text.trim()).split('\n');
  return clip(lines.map((line) => `> ${line}`).join('\n'), max);
}

/**
 * Message or slash-command text → plain text: the bot's own mention removed, `<url|label>` → label, `<url>` → url,
 * other mentions kept as their label or id, entities decoded.
 */
export function plainFromSlack(text: string, botUserId?: string): string {
  const withoutBot = botUserId ? text.replace(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g'), ' ') : text;
  const resolved = withoutBot.replace(/<([^<>|]*)(?:\|([^<>]*))?>/g, (_all, target: string, label: string | undefined) => {
    if (label !== undefined && label !== '') return label;
    return target.replace(/^[@#!]/, '');
  });
  return resolved
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+/g, ' ')
    .trim();
}
