/**
 * Build .tar.gz archives byte by byte (ustar), including the hostile entries a real tar
 * tool refuses to write: `..` paths, absolute paths, links out of the tree, devices.
 */
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  readonly name: string;
  /** '0' file, '2' symlink, '1' hard link, '5' directory, '3' char device … */
  readonly type?: '0' | '1' | '2' | '3' | '5';
  readonly body?: string | Buffer;
  readonly link?: string;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.type === '5' ? 0o755 : 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  h.write('        ', 148); // checksum field counts as spaces while summing
  h.write(e.type ?? '0', 156);
  if (e.link !== undefined) h.write(e.link, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

export function tarball(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const size = e.type === undefined || e.type === '0' ? body.length : 0;
    parts.push(header(e, size));
    if (size > 0) {
      parts.push(body, Buffer.alloc((512 - (size % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts));
}
