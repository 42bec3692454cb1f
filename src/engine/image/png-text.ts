import { crc32 } from 'node:zlib';

/**
 * PNG text chunks. sharp writes no arbitrary text chunks, so the generation parameters are spliced in as iTXt
 * (UTF-8, so Chinese prompts survive) right after IHDR, where every PNG reader looks for them.
 */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function assertPng(png: Buffer): void {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('Not a PNG');
  }
}

/** Returns a copy of `png` with one iTXt chunk per entry. Keywords are 1–79 Latin-1 characters. */
export function withTextChunks(png: Buffer, entries: Readonly<Record<string, string>>): Buffer {
  assertPng(png);
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const chunks = Object.entries(entries).map(([keyword, text]) => {
    if (!/^[\x20-\x7e]{1,79}$/.test(keyword)) throw new Error(`Invalid PNG text keyword "${keyword}"`);
    // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
    return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
  });
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** Reads uncompressed iTXt and tEXt chunks. */
export function readTextChunks(png: Buffer): Record<string, string> {
  assertPng(png);
  const out: Record<string, string> = {};
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      if (nul > 0) out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    } else if (type === 'iTXt') {
      const nul = data.indexOf(0);
      if (nul > 0 && data[nul + 1] === 0) {
        const langEnd = data.indexOf(0, nul + 3);
        const keyEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
        if (keyEnd >= 0) out[data.toString('latin1', 0, nul)] = data.toString('utf8', keyEnd + 1);
      }
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  return out;
}
