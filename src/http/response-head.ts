/**
 * Response heads handed to Node as one string. `writeHead(status, fields)` checks every field
 * name and value against two regular expressions, lower-cases each name to find the fields
 * it manages and joins them: for a 1 KiB cache hit with eight fields, about a fifth of the
 * instructions of the whole request (callgrind, docs/performance.md "Heads built once").
 * A stored response's fields and a static file's are the same on every answer: here they
 * are checked and joined once (`fieldBlock`), and each answer hands Node that block plus the
 * few lines made for the request. (A proxied response's block is joined per response from
 * fields undici's parser has already checked: proxy/forwarded-headers.ts.)
 *
 * Node still adds the fields it owns: Date (unless the block carries one), Connection and
 * Keep-Alive by its own keep-alive rules (maxRequestsPerSocket, a closing server), and
 * Content-Length. It does so in `_storeHeader`, the step `writeHead`
 * ends with, which is not a documented API: when the runtime has no such method, or the
 * answer is one Node has special rules for (HTTP/1.0, HTTP/2, a status without a body,
 * `Expect`, fields already set with `setHeader`), `writeHeadBlock` says no and the caller
 * uses `writeHead`.
 */
import {
  ServerResponse,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';

/** Header lines, `name: value\r\n` each, whose names and values have been checked. */
export interface FieldBlock {
  readonly lines: string;
  /** It carries a `Date` field (a stored response's own): Node adds none. */
  readonly date: boolean;
}

/** What Node's ServerResponse keeps for `writeHead` and `end` (lib/_http_outgoing.js). */
interface ResponseInternals {
  _hasBody: boolean;
  _contentLength: number | null;
  _storeHeader(firstLine: string, headers: null): void;
}

/** Whether this runtime's ServerResponse has the step heads are handed to. */
export const HEAD_BLOCKS =
  typeof (ServerResponse.prototype as unknown as Partial<ResponseInternals>)._storeHeader ===
  'function';

/**
 * `fields` as a block, each name and value checked as `writeHead` would (RFC 9110 §5.1,
 * §5.5: a token, then visible characters, spaces and tabs). Names in `skip` are left out.
 * Undefined when one does not pass: the caller's `writeHead` then says why.
 */
export function fieldBlock(
  fields: OutgoingHttpHeaders,
  skip: ReadonlySet<string>,
): FieldBlock | undefined {
  let lines = '';
  let date = false;
  try {
    for (const name in fields) {
      const value = fields[name];
      if (value === undefined || skip.has(name)) continue;
      validateHeaderName(name);
      if (name === 'date') date = true;
      if (Array.isArray(value)) {
        for (const one of value) {
          validateHeaderValue(name, one);
          lines += `${name}: ${one}\r\n`;
        }
      } else {
        const text = String(value);
        validateHeaderValue(name, text);
        lines += `${name}: ${text}\r\n`;
      }
    }
  } catch {
    return undefined;
  }
  return { lines, date };
}

const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

/**
 * Whether `res` can start with a block: HTTP/1.1 on node:http, a status with a body, no
 * `Expect`, nothing sent or set yet. Otherwise Node's own rules apply: use `writeHead`.
 */
export function blockWritable(req: IncomingMessage, res: ServerResponse, status: number): boolean {
  return (
    HEAD_BLOCKS &&
    res instanceof ServerResponse &&
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor === 1 &&
    status >= 200 &&
    status !== 204 &&
    status !== 304 &&
    req.headers.expect === undefined &&
    !res.headersSent &&
    res.getHeaderNames().length === 0
  );
}

/**
 * Start `res` with `status`, the block's fields, then `extra` (lines made for this request
 * from values Switchyard made itself: ids, ages, its own Cache-Status), for a body of
 * `length` bytes (undefined: not known, Node chunks it) that the caller then writes. False:
 * nothing was done (`blockWritable` said no), use `writeHead`.
 */
export function writeHeadBlock(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  block: FieldBlock,
  extra: string,
  length: number | undefined,
): boolean {
  if (!blockWritable(req, res, status)) return false;
  startWithBlock(res, status, block, extra, length);
  return true;
}

/** `writeHeadBlock` for a caller that has asked `blockWritable` already. */
export function startWithBlock(
  res: ServerResponse,
  status: number,
  block: FieldBlock,
  extra: string,
  length: number | undefined,
): void {
  const internals = res as unknown as ResponseInternals;
  res.statusCode = status;
  res.statusMessage = STATUS_CODES[status] ?? 'unknown';
  if (block.date) res.sendDate = false;
  // A body's length Node writes itself (and knows the body's end by); a HEAD answer has
  // none to measure, so its Content-Length goes with the fields (RFC 9110 §8.6).
  if (internals._hasBody) internals._contentLength = length ?? null;
  else if (length !== undefined) extra += `content-length: ${length}\r\n`;
  internals._storeHeader(statusLine(status) + block.lines + extra, null);
}
