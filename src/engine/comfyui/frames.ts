/**
 * ComfyUI's WebSocket messages: JSON `{ type, data }` text frames, and binary frames that start with a 4-byte
 * big-endian event type (server.py `encode_bytes`). Binary event 1 is an image (a sampler preview, or the output of
 * a SaveImageWebsocket node): a 4-byte big-endian image type (1 JPEG, 2 PNG) and the file; event 4 is an image with a
 * JSON header (a 4-byte length, the JSON, the file), sent to clients that announced `supports_preview_metadata`;
 * event 3 is progress text (a 4-byte node-id length, the node id, the text).
 */

/** The events this project reads, with the fields it reads (ComfyUI sends more). */
export type ComfyMessage =
  | { readonly type: 'status'; readonly data: { readonly status?: { readonly exec_info?: { readonly queue_remaining?: number } }; readonly sid?: string } }
  | { readonly type: 'execution_start'; readonly data: { readonly prompt_id: string } }
  | { readonly type: 'execution_cached'; readonly data: { readonly prompt_id: string; readonly nodes: readonly string[] } }
  | { readonly type: 'executing'; readonly data: { readonly prompt_id?: string; readonly node: string | null } }
  | { readonly type: 'progress'; readonly data: { readonly prompt_id?: string; readonly node?: string; readonly value: number; readonly max: number } }
  | { readonly type: 'executed'; readonly data: { readonly prompt_id: string; readonly node: string; readonly output: ExecutedOutput | null } }
  | { readonly type: 'execution_success'; readonly data: { readonly prompt_id: string } }
  | {
      readonly type: 'execution_error';
      readonly data: {
        readonly prompt_id: string;
        readonly node_id?: string;
        readonly node_type?: string;
        readonly exception_type?: string;
        readonly exception_message?: string;
      };
    }
  | { readonly type: 'execution_interrupted'; readonly data: { readonly prompt_id: string; readonly node_id?: string; readonly node_type?: string } }
  | { readonly type: 'other'; readonly name: string };

/** A file an output node wrote (SaveImage, PreviewImage), fetched with /view. */
export interface FileRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

export interface ExecutedOutput {
  readonly images?: readonly FileRef[];
}

export interface ImageFrame {
  readonly format: 'jpeg' | 'png';
  readonly bytes: Buffer;
  /** Event 4's header: which node and prompt sent it, where ComfyUI says. */
  readonly node?: string;
  readonly promptId?: string;
}

const KNOWN = new Set([
  'status',
  'execution_start',
  'execution_cached',
  'executing',
  'progress',
  'executed',
  'execution_success',
  'execution_error',
  'execution_interrupted',
]);

/** A text frame; undefined for one that is not `{ type, data }` JSON. */
export function parseTextFrame(text: string): ComfyMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { type, data } = raw as { type?: unknown; data?: unknown };
  if (typeof type !== 'string') return undefined;
  if (!KNOWN.has(type)) return { type: 'other', name: type };
  if (typeof data !== 'object' || data === null) return undefined;
  return { type, data } as ComfyMessage;
}

/** A binary frame that holds an image; undefined for progress text, unknown events and truncated frames. */
export function parseBinaryFrame(frame: Buffer): ImageFrame | undefined {
  if (frame.length < 8) return undefined;
  const event = frame.readUInt32BE(0);
  if (event === 1) {
    const kind = frame.readUInt32BE(4);
    return { format: kind === 1 ? 'jpeg' : 'png', bytes: frame.subarray(8) };
  }
  if (event === 4) {
    const length = frame.readUInt32BE(4);
    if (frame.length < 8 + length) return undefined;
    let meta: { image_type?: string; node_id?: string; prompt_id?: string } = {};
    try {
      meta = JSON.parse(frame.subarray(8, 8 + length).toString('utf8')) as typeof meta;
    } catch {
      return undefined;
    }
    return {
      format: meta.image_type === 'image/png' ? 'png' : 'jpeg',
      bytes: frame.subarray(8 + length),
      ...(meta.node_id !== undefined ? { node: String(meta.node_id) } : {}),
      ...(meta.prompt_id !== undefined ? { promptId: meta.prompt_id } : {}),
    };
  }
  return undefined;
}
