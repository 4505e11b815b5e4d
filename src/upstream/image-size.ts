import type { ImageSize } from './image-tokens';

/**
 * The pixel size of an image sent inline as a base64 data URL (PNG, GIF or JPEG), read from its header; null for
 * anything else (a remote URL, another format, a header not found in the first HEADER_BYTES), which the caller
 * then holds at the largest size. Only a bounded prefix of the data URL is decoded.
 */
const HEADER_BYTES = 64 * 1024; // JPEG: the frame header follows the EXIF/ICC segments, usually well within this
const MAX_MEDIA_TYPE_CHARS = 100;

export function imageSizeOfDataUrl(url: unknown): ImageSize | null {
  if (typeof url !== 'string' || !url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma < 0 || comma > MAX_MEDIA_TYPE_CHARS || !url.slice(0, comma).endsWith(';base64')) return null;
  const head = url.slice(comma + 1, comma + 1 + (HEADER_BYTES / 3) * 4);
  const bytes = Buffer.from(head.slice(0, head.length - (head.length % 4)), 'base64');
  const size = pngSize(bytes) ?? gifSize(bytes) ?? jpegSize(bytes);
  return size && size.widthPx > 0 && size.heightPx > 0 ? size : null;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngSize(b: Buffer): ImageSize | null {
  if (b.length < 24 || PNG_SIGNATURE.some((byte, i) => b[i] !== byte) || b.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { widthPx: b.readUInt32BE(16), heightPx: b.readUInt32BE(20) };
}

function gifSize(b: Buffer): ImageSize | null {
  if (b.length < 10 || !/^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return null;
  return { widthPx: b.readUInt16LE(6), heightPx: b.readUInt16LE(8) };
}

/** Walks the JPEG segments to the first start-of-frame marker (SOF0..SOF15 except DHT, JPG and DAC). */
function jpegSize(b: Buffer): ImageSize | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { heightPx: b.readUInt16BE(i + 5), widthPx: b.readUInt16BE(i + 7) };
    i += 2 + b.readUInt16BE(i + 2);
  }
  return null;
}
