/**
 * HTTP/2 requests answered on node:http2's native `stream` API, through the same request
 * path as HTTP/1.1. Node's compatibility layer (`Http2ServerRequest`/`Http2ServerResponse`)
 * builds a Readable per request, hangs eleven listeners on every stream, validates each header
 * field twice, and makes every response wait for trailers, which sends one more frame: in
 * a bare server answering 1 KiB it cost about a third of the CPU per request
 * (docs/performance.md, "HTTP/2 without the compatibility layer").
 *
 * `Http2Request` and `Http2Response` give the request path the part of node:http's
 * `IncomingMessage` and `ServerResponse` it uses, and nothing more: the request's body is the
 * stream's readable side, the response's body its writable side, and the response an
 * EventEmitter that says 'finish' and 'close' once per request from one shared listener.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  sensitiveHeaders,
  type IncomingHttpHeaders as Http2Headers,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { SwitchyardError } from '../model/errors.js';
import type { SendTimeouts, StreamWatch } from '../net/send-timeout.js';

/** The request path's entry (RequestHandler.handle). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

type FieldValue = number | string | string[];

/** Where a stream finds its response, for the listeners shared by every stream. */
const RESPONSE = Symbol('switchyard.http2Response');
type StreamWithResponse = ServerHttp2Stream & { [RESPONSE]?: Http2Response };

/**
 * Connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2): dropped from a
 * response, as Node's compatibility layer drops `Connection`, instead of failing it.
 */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

type Fields = Record<string, FieldValue>;
const NO_FIELDS: Readonly<Fields> = Object.freeze(Object.create(null) as Fields);

/** A null-prototype copy (header names come from upstreams: no `__proto__` tricks). */
function ownFields(from: Readonly<Record<string, FieldValue | undefined>> | undefined): Fields {
  const own = Object.create(null) as Fields;
  if (from !== undefined) {
    for (const name in from) {
      const value = from[name];
      if (value !== undefined) own[name] = value;
    }
  }
  return own;
}

/**
 * Fields sent as literals never indexed (RFC 7541 §6.2.3): the request id, new on every
 * response. Indexed, each id would take a place in the connection's HPACK dynamic table and
 * push out the fields that do repeat, and nghttp2's encoder spent about 3 µs a response on
 * that churn (docs/performance.md, "HTTP/2 request ids never indexed").
 */
const NEVER_INDEXED: readonly string[] = Object.freeze(['x-request-id']);

/** Mark `fields`' request id never indexed, unless it is frozen (then sent as it was). */
function neverIndexed(fields: object): void {
  if (!Object.isExtensible(fields)) return;
  (fields as { [sensitiveHeaders]?: readonly string[] })[sensitiveHeaders] ??= NEVER_INDEXED;
}

/** `respond` options, one object each (read, never kept, by Node). */
const ENDS = Object.freeze({ endStream: true, waitForTrailers: false });
const SENDS_BODY = Object.freeze({ endStream: false, waitForTrailers: false });
const WAITS_FOR_TRAILERS = Object.freeze({ endStream: false, waitForTrailers: true });

/** RFC 9110 §6.4.1: these statuses never carry content; `respond` ends the stream itself. */
function bodyless(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/**
 * The part of `IncomingMessage` the request path reads, for one HTTP/2 stream. Its body is
 * the stream's readable side (`bodyOf` in http/request-body.ts).
 */
export class Http2Request {
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly stream: ServerHttp2Stream;
  /** The connection's TLS socket (Node's compatibility request hands out a Proxy of it). */
  readonly socket: Socket;
  /** Why the request path answers this request with an error before routing it, if it must. */
  refusal: SwitchyardError | undefined = undefined;

  constructor(stream: ServerHttp2Stream, headers: Http2Headers, rawHeaders: string[]) {
    this.stream = stream;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
    this.method = headers[':method'] ?? 'GET';
    this.url = headers[':path'] ?? '';
    this.socket = stream.session?.socket as Socket;
  }
}

/** The part of `ServerResponse` the request path uses, for one HTTP/2 stream. */
export class Http2Response extends EventEmitter {
  readonly req: Http2Request;
  readonly stream: ServerHttp2Stream;
  statusCode = 200;
  /** HTTP/2 has no reason phrase (RFC 9113 §8.3.2): kept for the interface, never sent. */
  statusMessage = '';
  /** HTTP/1.1's; an HTTP/2 connection is ended by GOAWAY for all its streams at once. */
  shouldKeepAlive = true;
  /** Body bytes written (the access log's and traffic counters' `bytes`; no HPACK head). */
  bodyBytes = 0;
  /** Fields set one by one (`setHeader`), in an object of the response's own. */
  #fields: Fields | undefined;
  /** Fields given to `writeHead` when none were set before: passed on as they are. */
  #given: Readonly<Record<string, FieldValue | undefined>> | undefined;
  #trailers: Record<string, FieldValue> | undefined;
  #waitsForTrailers = false;
  #ending = false;
  #forwardsDrain = false;
  readonly #sends: SendTimeouts | undefined;
  readonly #watch: StreamWatch | undefined;

  /** `sends`: the send timeout that watches this response while its stream is open. */
  constructor(req: Http2Request, sends?: SendTimeouts) {
    super();
    this.req = req;
    const stream = req.stream as StreamWithResponse;
    this.stream = stream;
    stream[RESPONSE] = this;
    this.#sends = sends;
    this.#watch = sends?.watchStream(this);
    stream.on('close', onStreamClose);
    // Stream errors (a client's RST_STREAM) end in 'close'; without a listener they would throw.
    stream.on('error', ignore);
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get writableEnded(): boolean {
    return this.#ending;
  }

  get writableFinished(): boolean {
    return this.stream.writableFinished;
  }

  get writableNeedDrain(): boolean {
    return this.stream.writableNeedDrain;
  }

  /** Bytes written and not yet taken by the client (its flow-control window). */
  get writableLength(): number {
    return this.stream.writableLength;
  }

  setHeader(name: string, value: FieldValue): this {
    (this.#fields ??= ownFields(undefined))[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): FieldValue | undefined {
    return this.#fields?.[name.toLowerCase()];
  }

  getHeaderNames(): string[] {
    return this.#fields === undefined ? [] : Object.keys(this.#fields);
  }

  hasHeader(name: string): boolean {
    return this.#fields?.[name.toLowerCase()] !== undefined;
  }

  removeHeader(name: string): void {
    if (this.#fields !== undefined) delete this.#fields[name.toLowerCase()];
  }

  /** `writeHead(status[, reason][, fields])`: names in lower case, as the request path has them. */
  writeHead(
    status: number,
    reasonOrFields?: string | Record<string, FieldValue | undefined>,
    maybeFields?: Record<string, FieldValue | undefined>,
  ): this {
    const given = typeof reasonOrFields === 'object' ? reasonOrFields : maybeFields;
    this.statusCode = status;
    const fields = this.#fields;
    if (fields === undefined) this.#given = given;
    else if (given !== undefined) {
      for (const name in given) {
        const value = given[name];
        if (value !== undefined) fields[name] = value;
      }
    }
    this.#respond(false);
    return this;
  }

  flushHeaders(): void {
    if (!this.stream.headersSent) this.#respond(false);
  }

  /** 1xx informational responses: only 103 Early Hints is sent on (RFC 8297). */
  writeEarlyHints(hints: Record<string, string | string[]>): void {
    const stream = this.stream;
    if (stream.headersSent || stream.destroyed) return;
    stream.additionalHeaders({ ...hints, ':status': 103 });
  }

  /**
   * Trailer fields go on when the response was begun waiting for them: a response whose
   * length was not declared up front, or that named its trailers in `Trailer` (RFC 9110
   * §6.6.2). A response with a declared length cannot have had them upstream either (in
   * HTTP/1.1 only chunked content carries trailers, RFC 9112 §7.1.2).
   */
  addTrailers(trailers: Record<string, FieldValue | undefined>): void {
    if (!this.#waitsForTrailers) return;
    const kept = (this.#trailers ??= Object.create(null) as Record<string, FieldValue>);
    for (const name in trailers) {
      const value = trailers[name];
      if (value !== undefined && !CONNECTION_SPECIFIC.has(name)) kept[name] = value;
    }
  }

  write(chunk: string | Uint8Array, encoding?: BufferEncoding | (() => void)): boolean {
    const stream = this.stream;
    if (this.#ending || stream.destroyed) return false;
    if (!stream.headersSent) this.#respond(false);
    if (stream.writableEnded) return true; // HEAD, 204, 304: the head was the whole answer
    this.#count(chunk, encoding);
    const more = typeof encoding === 'string' ? stream.write(chunk, encoding) : stream.write(chunk);
    if (!more && !this.#forwardsDrain) {
      this.#forwardsDrain = true;
      stream.on('drain', onStreamDrain);
    }
    return more;
  }

  end(chunk?: string | Uint8Array | (() => void), encoding?: BufferEncoding): this {
    if (this.#ending) return this;
    const stream = this.stream;
    const body = typeof chunk === 'function' ? undefined : chunk;
    if (stream.destroyed) {
      this.#ending = true;
      return this;
    }
    if (!stream.headersSent) {
      if (body === undefined || body.length === 0) {
        this.#ending = true;
        this.#respond(true);
        return this;
      }
      this.#respond(false);
    }
    this.#ending = true;
    if (stream.writableEnded) return this;
    if (body === undefined) stream.end();
    else {
      this.#count(body, encoding);
      if (typeof body !== 'string' && body.length > SLICE_BYTES) endInSlices(stream, body);
      else if (encoding === undefined) stream.end(body);
      else stream.end(body, encoding);
    }
    return this;
  }

  destroy(err?: Error): this {
    this.stream.destroy(err);
    return this;
  }

  #count(chunk: string | Uint8Array, encoding: unknown): void {
    this.bodyBytes +=
      typeof chunk === 'string'
        ? Buffer.byteLength(
            chunk,
            typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
          )
        : chunk.byteLength;
  }

  /** Send the head (`ends`: and nothing after it). */
  #respond(ends: boolean): void {
    const stream = this.stream;
    if (stream.headersSent || stream.destroyed || stream.closed) return;
    const status = this.statusCode;
    // `respond` copies the fields and sends 200 when `:status` is absent: the fields given to
    // `writeHead` go as they are, and are copied only to carry another status.
    let head = this.#fields ?? this.#given ?? NO_FIELDS;
    if (status !== 200) {
      const own = this.#fields ?? ownFields(head);
      own[':status'] = status;
      // RFC 9110 §8.6: never on a 204; a length there would make the client reset the stream.
      if (status === 204) delete own['content-length'];
      head = own;
    }
    const endStream = ends || this.req.method === 'HEAD' || bodyless(status);
    const waits =
      !endStream && (head['content-length'] === undefined || head.trailer !== undefined);
    this.#waitsForTrailers = waits;
    const options = endStream ? ENDS : waits ? WAITS_FOR_TRAILERS : SENDS_BODY;
    // Node reads the names from the fields object's `sensitiveHeaders` symbol. An object
    // holding this request's id was made for this response; a frozen one is left as it is.
    if (head['x-request-id'] !== undefined) neverIndexed(head);
    try {
      stream.respond(head, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_HTTP2_INVALID_CONNECTION_HEADERS') throw err;
      // RFC 9113 §8.2.2: connection-specific fields have no place in HTTP/2. Dropped (as
      // Node's compatibility layer drops Connection) rather than failing the response.
      const kept = ownFields(undefined);
      for (const name in head) if (!CONNECTION_SPECIFIC.has(name)) kept[name] = head[name]!;
      if (kept['x-request-id'] !== undefined) neverIndexed(kept);
      stream.respond(kept, options);
    }
    if (waits) stream.on('wantTrailers', onWantTrailers);
  }

  /** The stream closed: 'finish' if the whole response went out (not for a reset), 'close'. */
  streamClosed(finished: boolean): void {
    if (this.#watch !== undefined) this.#sends!.forgetStream(this.#watch);
    if (finished) this.emit('finish');
    this.emit('close');
  }

  /** The trailers gathered by `addTrailers`, or none (the stream then ends). */
  takeTrailers(): Record<string, FieldValue> {
    const trailers = this.#trailers ?? {};
    this.#trailers = undefined;
    return trailers;
  }
}

function ignore(): void {}

/**
 * A body held in memory (a stored response of up to `cache.maxObjectBytes`) is handed to the
 * stream in slices, each once the one before is taken: a stream write completes only when
 * all of it is sent, and the send timeout (net/send-timeout.ts) sees a slow reader's
 * progress by completed writes.
 */
const SLICE_BYTES = 64 * 1024;

function endInSlices(stream: ServerHttp2Stream, body: Uint8Array): void {
  let at = 0;
  const next = (): void => {
    while (!stream.destroyed) {
      const slice = body.subarray(at, Math.min(at + SLICE_BYTES, body.length));
      at += slice.length;
      if (at === body.length) {
        stream.end(slice);
        return;
      }
      if (!stream.write(slice)) {
        stream.once('drain', next);
        return;
      }
    }
  };
  next();
}

function onStreamClose(this: StreamWithResponse): void {
  const res = this[RESPONSE];
  if (res === undefined) return;
  this[RESPONSE] = undefined;
  // 'finish' as node:http means it: the whole response was handed on (not for a reset).
  res.streamClosed(this.writableFinished);
}

function onStreamDrain(this: StreamWithResponse): void {
  this[RESPONSE]?.emit('drain');
}

function onWantTrailers(this: StreamWithResponse): void {
  const res = this[RESPONSE];
  this.sendTrailers(res === undefined ? {} : res.takeTrailers());
}

/**
 * The server's 'stream' listener: each HTTP/2 request to `handle` as `req`/`res`. CONNECT
 * is not served (RFC 9113 §8.5; Switchyard tunnels nothing over HTTP/2); `Expect:
 * 100-continue` is answered at once, any other expectation with 417 (RFC 9110 §10.1.1). Both
 * refusals go through the request path (`req.refusal`), so they are logged and counted.
 */
export function http2StreamListener(
  handle: RequestListener,
  sends?: SendTimeouts,
): (stream: ServerHttp2Stream, headers: Http2Headers, flags: number, rawHeaders: string[]) => void {
  return (stream, headers, _flags, rawHeaders) => {
    const req = new Http2Request(stream, headers, rawHeaders);
    const expect = headers.expect;
    if (headers[':method'] === 'CONNECT') {
      req.refusal = new SwitchyardError(
        'SY_METHOD_NOT_ALLOWED',
        'CONNECT is not served over HTTP/2 here',
      );
    } else if (expect !== undefined) {
      if (expect.toLowerCase() === '100-continue') stream.additionalHeaders({ ':status': 100 });
      else {
        req.refusal = new SwitchyardError(
          'SY_EXPECTATION_FAILED',
          `the expectation "${expect.slice(0, 40)}" cannot be met`,
        );
      }
    }
    handle(
      req as unknown as IncomingMessage,
      new Http2Response(req, sends) as unknown as ServerResponse,
    );
  };
}
