import WebSocket from 'ws';
import type { OpenSocket } from './engine/comfyui/client.ts';

/**
 * The WebSocket client the engine's ComfyUI backend uses (it names no WebSocket library itself): `ws`, without
 * per-message compression (ComfyUI's images are PNG and JPEG already).
 */
export const openWebSocket: OpenSocket = (url, options) => new WebSocket(url, { headers: { ...options.headers }, handshakeTimeout: options.handshakeTimeout, perMessageDeflate: false });
