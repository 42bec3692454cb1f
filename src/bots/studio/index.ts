import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { Adapter } from '../adapter.ts';
import type { Runtime } from '../../runtime.ts';
import { StudioChannel } from './channel.ts';
import { DeletedJobs } from './deleted-jobs.ts';
import { createHttpHandler } from './http-handler.ts';
import { StudioMedia } from './media.ts';
import { hostAllowed, isLoopbackHost, originAllowed, originPolicy, type OriginPolicy } from './request-guard.ts';
import { attachSession } from './socket-session.ts';
import { loadStaticFiles } from './static-files.ts';
import { StudioBot, STUDIO_PLATFORM } from './studio-bot.ts';
import { UploadStore } from './uploads.ts';
import { StudioIdentities } from './identities.ts';

export type { StudioDelivery } from './studio-bot.ts';

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
/** Commands are short JSON; images go through POST /upload. */
const MAX_FRAME_BYTES = 64 * 1024;
/** The address the studio listens on, whatever `studio.host` spells it as. */
const BIND_ADDRESS = '127.0.0.1';

/** The local web channel as main.ts sees it: an Adapter with the address to open. */
export interface StudioAdapter extends Adapter {
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
}

export type StudioStartErrorCode = 'non-loopback-host' | 'listen-failed';

/** The studio could not start: a configuration it refuses, or a port it could not take. */
export class StudioStartError extends Error {
  override readonly name = 'StudioStartError';
  constructor(
    readonly code: StudioStartErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the studio on 127.0.0.1:`studio.port` (0 picks a free port; `url` says which) over the shared runtime:
 * one more adapter over the same core and queue as Discord and Slack.
 */
export async function startStudio(runtime: Runtime): Promise<StudioAdapter> {
  const { config, log } = runtime;
  if (!isLoopbackHost(config.studio.host)) {
    throw new StudioStartError(
      'non-loopback-host',
      `studio.host is "${config.studio.host}"; the studio has no login, so it only listens on 127.0.0.1 (use 127.0.0.1 or localhost)`,
    );
  }
  const deleted = DeletedJobs.open(join(config.dataDir, 'studio', 'deleted.json'));
  const media = new StudioMedia({ history: runtime.core.history, outputsDir: join(config.dataDir, 'outputs'), hidden: (id) => deleted.has(id) });
  const uploads = new UploadStore({ maxBytes: config.limits.maxInputBytes, perUser: config.studio.uploadsPerUser });
  const identities = new StudioIdentities({ perMinute: config.studio.newUsersPerMinute });
  const channel = new StudioChannel();
  const bot = new StudioBot({ runtime, channel, media, uploads, deleted });
  let policy: OriginPolicy = originPolicy(config.studio.port);

  const server = createServer(createHttpHandler({ files: loadStaticFiles(PUBLIC_DIR), media, uploads, identities, policy: () => policy, log }));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  sockets.on('connection', (socket) => attachSession(socket, { bot, channel, identities, log }));
  server.on('upgrade', (request, socket: Socket, head) => {
    // Node hands the raw socket over without its error listener: a peer resetting during our 403 would crash us.
    socket.on('error', () => socket.destroy());
    const path = new URL(request.url ?? '/', 'http://studio.invalid').pathname;
    if (path !== '/ws' || !hostAllowed(request.headers.host, policy) || !originAllowed(request.headers.origin, policy)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request));
  });

  const port = await listen(server, config.studio.port);
  policy = originPolicy(port);
  const url = `http://${BIND_ADDRESS}:${port}/`;
  log.info({ url }, 'studio ready');

  return {
    platform: STUDIO_PLATFORM,
    url,
    resume: (record) => bot.resume(record),
    // The history shows a lost job as failed, with the reason; there is nobody else to tell.
    reportLost: async () => undefined,
    stop: async () => {
      await closeSockets([...sockets.clients]);
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new StudioStartError('listen-failed', `The studio could not listen on ${BIND_ADDRESS}:${port} (${error.code ?? error.message}); set STUDIO_PORT to a free port`));
    };
    server.once('error', onError);
    server.listen(port, BIND_ADDRESS, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Says goodbye to every tab (they reconnect to the next start), then cuts whoever has not answered within a second. */
async function closeSockets(clients: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            socket.terminate();
            resolve();
          }, 1000);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          socket.close(1001, 'studio stopping');
        }),
    ),
  );
}
