/**
 * Limits that hold per connection, on every listener: how many client connections may be
 * open at once (in all and per client address), how long a TLS client has for its handshake
 * and its first request, how long an HTTP/2 connection may sit with no request open, and
 * how long a client may take none of a response (net/send-timeout.ts).
 * HTTP/1.1's own head, request and keep-alive timeouts are Node's (set by the listeners);
 * docs/security.md lists every limit with its default.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { clientKey } from '../net/client-key.js';
import { SwitchyardError } from '../model/errors.js';
import { countRefusal } from '../observability/metrics.js';
import type { TrustedPeers } from '../proxy/trusted-peers.js';
import { SendTimeouts } from '../net/send-timeout.js';

export interface ConnectionLimits {
  /** Client connections open at once, all listeners (0: none). */
  readonly maxConnections: number;
  /** … from one client address or IPv6 /64 (0: none); trusted proxies are exempt. */
  readonly maxConnectionsPerIp: number;
  /** Time for the TLS handshake, and then for an HTTP/2 client's first request. */
  readonly headersTimeoutMs: number;
  /** An HTTP/2 connection with no request open for this long is closed (GOAWAY). */
  readonly http2IdleTimeoutMs: number;
  /** A client that takes none of a response for this long is cut off (0: never). */
  readonly sendTimeoutMs: number;
}

type Refusal = 'connections' | 'connections_per_ip';

/** How many of something each client key has open (connections, event streams). */
export class ClientCounts {
  readonly #counts = new Map<string, number>();

  /** Count one more for `key` unless it already has `max` (false: refused, not counted). */
  acquire(key: string, max: number): boolean {
    const n = this.#counts.get(key) ?? 0;
    if (n >= max) return false;
    this.#counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.#counts.get(key) ?? 1) - 1;
    if (n <= 0) this.#counts.delete(key);
    else this.#counts.set(key, n);
  }
}

export class ConnectionGuard {
  readonly #limits: ConnectionLimits;
  readonly #trusted: TrustedPeers;
  #open = 0;
  readonly #perClient = new ClientCounts();
  /** HTTP connections refused but kept open for their one answer. */
  readonly #refused = new WeakMap<object, Refusal>();
  #refusing = 0;
  /** The send timeout, for HTTP/1.1 connections and HTTP/2 responses. */
  readonly sends: SendTimeouts;

  constructor(limits: ConnectionLimits, trusted: TrustedPeers) {
    this.#limits = limits;
    this.#trusted = trusted;
    this.sends = new SendTimeouts(limits.sendTimeoutMs, () => countRefusal('send_timeout'));
  }

  close(): void {
    this.sends.close();
  }

  /** Client connections open now (admitted ones). */
  get open(): number {
    return this.#open;
  }

  /** Count a new connection until it closes; the limit it is over, if any (then not counted). */
  #admit(socket: Socket): Refusal | undefined {
    const { maxConnections, maxConnectionsPerIp } = this.#limits;
    if (maxConnections > 0 && this.#open >= maxConnections) return 'connections';
    const address = socket.remoteAddress ?? '';
    const key = maxConnectionsPerIp > 0 && !this.#trusted.has(address) ? clientKey(address) : '';
    if (key !== '' && !this.#perClient.acquire(key, maxConnectionsPerIp)) {
      return 'connections_per_ip';
    }
    this.#open++;
    socket.once('close', () => {
      this.#open--;
      if (key !== '') this.#perClient.release(key);
    });
    return undefined;
  }

  /**
   * The plain HTTP listener: a connection over a limit is still read, and its first request
   * answered with the refusal and `Connection: close` (as nginx's `limit_conn`), so clients
   * see why; see `refusalFor`.
   */
  guardHttp(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sends.watchSocket(socket);
      const refusal = this.#admit(socket);
      if (refusal === undefined) return;
      countRefusal(refusal);
      this.#refused.set(socket, refusal);
      this.#refusing++;
      socket.once('close', () => this.#refusing--);
      // It gets one answer, and not forever to send the request that earns it.
      socket.setTimeout(this.#limits.headersTimeoutMs, () => socket.destroy());
    });
  }

  /** The answer for a request on a refused HTTP connection (undefined: admitted). */
  refusalFor(socket: object): SwitchyardError | undefined {
    if (this.#refusing === 0) return undefined; // the usual case: one compare
    const refusal = this.#refused.get(socket);
    if (refusal === undefined) return undefined;
    return refusal === 'connections'
      ? new SwitchyardError('SY_OVER_CAPACITY', 'this edge is at its connection limit', {
          headers: { 'retry-after': '1' },
        })
      : new SwitchyardError(
          'SY_TOO_MANY_CONNECTIONS',
          `too many connections from this address (limit ${this.#limits.maxConnectionsPerIp})`,
          { headers: { 'retry-after': '1' } },
        );
  }

  /**
   * The HTTPS listener: over a limit, the connection is closed before its handshake (nothing
   * can be said without paying for one). The handshake must end within `headersTimeoutMs`
   * (the server's `handshakeTimeout`); an HTTP/2 client then has as long again for its first
   * request, and an HTTP/2 connection with nothing open is closed after `http2.idleTimeoutMs`.
   */
  guardSecure(server: Http2SecureServer): void {
    server.on('connection', (socket: Socket) => {
      const refusal = this.#admit(socket);
      if (refusal === undefined) return;
      countRefusal(refusal);
      socket.destroy();
    });
    server.on('session', (session: ServerHttp2Session) => this.#watchSession(session));
    // HTTP/1.1 over TLS writes through the TLS socket (HTTP/2 through its streams, watched
    // by their responses).
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol !== 'h2') this.sends.watchSocket(socket);
    });
  }

  #watchSession(session: ServerHttp2Session): void {
    const watch: SessionWatch = {
      session,
      open: 0,
      timer: undefined,
      idleMs: this.#limits.http2IdleTimeoutMs,
      close: () => {
        // GOAWAY, then streams the client opened meanwhile may finish; destroy if it lingers.
        session.close();
        setTimeout(() => session.destroy(), 1000).unref();
      },
    };
    watch.timer = setTimeout(watch.close, this.#limits.headersTimeoutMs);
    (session as WatchedSession)[WATCH] = watch;
    session.on('stream', onWatchedStream);
    session.once('close', () => clearTimeout(watch.timer));
  }
}

/** How long an HTTP/2 connection has had nothing open, per session. */
interface SessionWatch {
  /** (A closed stream no longer knows its session.) */
  readonly session: ServerHttp2Session;
  open: number;
  timer: NodeJS.Timeout | undefined;
  readonly idleMs: number;
  readonly close: () => void;
}
const WATCH = Symbol('switchyard.sessionWatch');
type WatchedSession = ServerHttp2Session & { [WATCH]?: SessionWatch };
type WatchedStream = ServerHttp2Stream & { [WATCH]?: SessionWatch };

// Shared listeners (the session's or stream's own state found on it): no closure per stream.
function onWatchedStream(this: WatchedSession, stream: WatchedStream): void {
  const watch = this[WATCH]!;
  watch.open++;
  if (watch.timer !== undefined) {
    clearTimeout(watch.timer);
    watch.timer = undefined;
  }
  stream[WATCH] = watch;
  stream.on('close', onWatchedStreamClose);
}

function onWatchedStreamClose(this: WatchedStream): void {
  const watch = this[WATCH]!;
  const session = watch.session;
  if (--watch.open === 0 && !session.closed && !session.destroyed) {
    watch.timer = setTimeout(watch.close, watch.idleMs);
  }
}

/** Statuses Node's parser errors map to (the rest are 400). */
const CLIENT_ERROR_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * `clientError` on an HTTP/1.1 listener (plain or TLS): a request that could not be parsed,
 * or a head or request that ran out of time, gets one plain-text answer and a close.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const [status, text] = CLIENT_ERROR_STATUS[err.code ?? ''] ?? [400, 'Bad Request'];
  // One response per request: if a response is already under way on this connection
  // (junk pipelined after a request), answering again would give its client two. Node's
  // own handler checks the same.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  const answered = inFlight !== undefined && inFlight !== null && inFlight.headersSent === true;
  // A timeout carries no parser state, but still deserves its 408 (RFC 9110 §15.5.9).
  const parsedOrTimedOut =
    (err as { bytesParsed?: number }).bytesParsed !== undefined ||
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (socket.writable && !answered && parsedOrTimedOut) {
    const body = `${status} ${text}: the request could not be parsed (${err.code ?? 'error'})\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy();
}
