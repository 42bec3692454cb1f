import type { IncomingMessage, ServerResponse } from 'node:http';
import { localeFrom } from '../core/command.ts';
import { errorText, text } from '../core/texts.ts';
import type { Logger } from '../../logging.ts';
import { parseBoardPath, parseMediaPath, type StudioMedia } from './media.ts';
import { USER_ID } from './protocol.ts';
import { hostAllowed, originAllowed, type OriginPolicy } from './request-guard.ts';
import { SECURITY_HEADERS } from './security-headers.ts';
import type { StaticFile } from './static-files.ts';
import type { StudioIdentities } from './identities.ts';
import type { UploadStore } from './uploads.ts';

export interface HttpDeps {
  readonly files: ReadonlyMap<string, StaticFile>;
  readonly media: StudioMedia;
  readonly uploads: UploadStore;
  /** Uploads are taken only for a user a tab has presented (so minted ids get no room of their own). */
  readonly identities: StudioIdentities;
  /** Known once the server listens (the port may be chosen by the system). */
  readonly policy: () => OriginPolicy;
  readonly log: Logger;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The studio's HTTP side: the front end's files, result images and board sheets, and uploads. Every request must name us in Host;
 * uploads must also come from our own Origin (see request-guard.ts).
 */
export function createHttpHandler(deps: HttpDeps): Handler {
  return (request, response) => {
    handle(deps, request, response).catch((error: unknown) => {
      deps.log.error({ err: error, path: request.url }, 'studio request failed');
      if (!response.headersSent) reply(response, 500, 'text/plain; charset=utf-8', 'Internal error');
      else response.destroy();
    });
  };
}

async function handle(deps: HttpDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const policy = deps.policy();
  if (!hostAllowed(request.headers.host, policy)) return reply(response, 403, 'text/plain; charset=utf-8', 'Forbidden');
  const url = new URL(request.url ?? '/', 'http://studio.invalid');
  const method = request.method ?? 'GET';

  if (method === 'GET' || method === 'HEAD') {
    const file = deps.files.get(url.pathname);
    if (file) return reply(response, 200, file.type, file.body, { 'Cache-Control': 'no-cache' }, method === 'HEAD');
    const media = parseMediaPath(url.pathname);
    if (media) {
      const png = await deps.media.read(media.jobId, media.what);
      if (png) return reply(response, 200, 'image/png', png, { 'Cache-Control': 'private, max-age=3600' }, method === 'HEAD');
    }
    const board = parseBoardPath(url.pathname);
    const sheet = board === undefined ? undefined : deps.media.board(board);
    if (sheet) return reply(response, 200, 'image/png', sheet, { 'Cache-Control': 'private, max-age=3600' }, method === 'HEAD');
    return reply(response, 404, 'text/plain; charset=utf-8', 'Not found');
  }

  if (method === 'POST' && url.pathname === '/upload') {
    if (!originAllowed(request.headers.origin, policy)) return reply(response, 403, 'text/plain; charset=utf-8', 'Forbidden');
    const locale = localeFrom(url.searchParams.get('locale'));
    const userId = url.searchParams.get('user') ?? '';
    if (!USER_ID.test(userId) || !deps.identities.has(userId)) return json(response, 400, { error: text(locale, 'studio.bad-message') });
    const length = request.headers['content-length'];
    const result = await deps.uploads.receive(request, length === undefined ? undefined : Number(length), userId);
    if (result.ok) return json(response, 200, { id: result.value });
    // A refused body may still be streaming in: answer, then close the connection rather than read it all.
    const unread = !request.readableEnded;
    json(response, result.error.status, { error: errorText(locale, result.error.error) }, unread ? { Connection: 'close' } : {});
    if (unread) response.on('finish', () => request.destroy());
    return;
  }

  return reply(response, 405, 'text/plain; charset=utf-8', 'Method not allowed', { Allow: 'GET, HEAD, POST' });
}

function reply(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Readonly<Record<string, string>> = {},
  headOnly = false,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(bytes.byteLength), ...headers });
  response.end(headOnly ? undefined : bytes);
}

function json(response: ServerResponse, status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
  reply(response, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store', ...headers });
}
