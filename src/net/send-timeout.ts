/**
 * The send timeout (`limits.sendTimeoutMs`, as nginx's `send_timeout`): a client that takes
 * none of what it is being sent for that long — its receive window closed, over TCP or, in
 * HTTP/2, on one stream held by flow control — is cut off, so that neither its connection
 * nor the app response behind it (paused by back-pressure) is held for as long as it likes.
 * HTTP/1.1: the connection is closed. HTTP/2: the stream is reset with CANCEL and the
 * connection goes on serving its other streams (Node's own stream timeout counts any frame
 * the session sends as progress, so one stalled stream among busy ones would never time out).
 *
 * Nothing per request: one check every quarter of the limit (at most every second) walks
 * the HTTP/1.1 connections and HTTP/2 responses open now and looks only at those with bytes
 * waiting. Progress is a write completing (bytes handed on minus bytes still waiting grows)
 * or, on a socket, the kernel taking part of one (libuv's write queue shrinking: one large
 * write of a stored body completes only at its end), so a client that takes any bytes of a
 * socket write, or one HTTP/2 write (at most 64 KiB: http2-exchange.ts slices larger
 * bodies), in the limit is kept.
 */
import { constants } from 'node:http2';
import type { Socket } from 'node:net';

/** An HTTP/2 response as the check sees it (Http2Response in server/http2-exchange.ts). */
export interface StreamSender {
  /** Body bytes handed to the stream so far. */
  readonly bodyBytes: number;
  readonly stream: {
    readonly writableLength: number;
    readonly destroyed: boolean;
    close(code: number): void;
  };
}

/**
 * One socket or HTTP/2 response being watched, in a doubly linked list, with where it stood
 * when last seen making progress with bytes waiting.
 *
 * Not a Set and a Map: with a response added and removed per request, V8 rebuilds a Set's
 * hash table every few hundred requests, and once the table has lived long enough to be
 * promoted, each new one is made in the old generation too (`OrderedHashTable::Rehash`). The table it replaces still
 * points at the responses it held; until the next full collection those pointers keep them,
 * and all they reach, alive through every young-generation collection, which then promotes
 * them as well. Under `h2load -c16 -m10` that promoted 4.5 KB per HTTP/2 request, and
 * collections took about 35 µs of CPU per request against 2 µs with no Set
 * (docs/performance.md, "A Set that kept every HTTP/2 response"). A removed record points at
 * nothing.
 */
interface Watch<T> {
  sender: T | undefined;
  prev: Watch<T> | undefined;
  next: Watch<T> | undefined;
  /** Bytes it had taken then (completed writes). */
  taken: number;
  /** Bytes of a socket write still queued in libuv (the least seen since). */
  queued: number;
  since: number;
  /** Bytes were waiting at the last check (else the three fields above mean nothing). */
  waiting: boolean;
}

/** The records being watched, newest first; removal in constant time. */
class WatchList<T> {
  head: Watch<T> | undefined = undefined;

  add(sender: T): Watch<T> {
    const watch: Watch<T> = {
      sender,
      prev: undefined,
      next: this.head,
      taken: 0,
      queued: 0,
      since: 0,
      waiting: false,
    };
    if (this.head !== undefined) this.head.prev = watch;
    this.head = watch;
    return watch;
  }

  remove(watch: Watch<T>): void {
    if (watch.sender === undefined) return; // removed already
    if (watch.prev !== undefined) watch.prev.next = watch.next;
    else this.head = watch.next;
    if (watch.next !== undefined) watch.next.prev = watch.prev;
    watch.sender = undefined;
    watch.prev = undefined;
    watch.next = undefined;
  }

  clear(): void {
    while (this.head !== undefined) this.remove(this.head);
  }
}

/** What `watchStream` gives back, for `forgetStream`. */
export type StreamWatch = object;

/**
 * Bytes libuv still holds of a socket's writes: it shrinks as the kernel takes part of a
 * large write. For TLS, those of the TCP socket beneath (`_parent`). Node's own socket
 * timeout reads the same field; 0 where it is missing (progress is then completions only).
 */
function queuedIn(socket: Socket): number {
  const tcp = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  const handle = (tcp as Socket & { _handle?: { writeQueueSize?: number } | null })._handle;
  return handle?.writeQueueSize ?? 0;
}

export class SendTimeouts {
  readonly #timeoutMs: number;
  readonly #sockets = new WatchList<Socket>();
  readonly #streams = new WatchList<StreamSender>();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #onCut: () => void;

  /** `timeoutMs` 0: no send timeout (nothing is watched); `onCut` counts each cut. */
  constructor(timeoutMs: number, onCut: () => void = () => {}) {
    this.#timeoutMs = timeoutMs;
    this.#onCut = onCut;
    if (timeoutMs > 0) {
      const every = Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4)));
      this.#timer = setInterval(() => this.check(Date.now()), every);
      this.#timer.unref();
    }
  }

  /** An HTTP/1.1 connection (plain or TLS), watched until it closes. */
  watchSocket(socket: Socket): void {
    if (this.#timer === undefined) return;
    const watch = this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.remove(watch));
  }

  /** An HTTP/2 response, watched until `forgetStream` (its stream's close). */
  watchStream(sender: StreamSender): StreamWatch | undefined {
    return this.#timer === undefined ? undefined : this.#streams.add(sender);
  }

  forgetStream(watch: StreamWatch): void {
    this.#streams.remove(watch as Watch<StreamSender>);
  }

  /** One pass: cut whoever has had bytes waiting, and taken none, for the limit. */
  check(now: number): void {
    // Each record's successor is read before it may be cut (a cut's 'close' removes it).
    let next: Watch<Socket> | undefined;
    for (let watch = this.#sockets.head; watch !== undefined; watch = next) {
      next = watch.next;
      const socket = watch.sender!;
      if (socket.destroyed) continue; // its 'close' is on the way
      const waiting = socket.writableLength;
      // bytesWritten counts what is still waiting too; what is left is what the kernel took.
      const taken = (socket.bytesWritten ?? 0) - waiting;
      if (this.#stalled(watch, waiting, taken, waiting === 0 ? 0 : queuedIn(socket), now)) {
        this.#onCut();
        socket.destroy();
      }
    }
    let after: Watch<StreamSender> | undefined;
    for (let watch = this.#streams.head; watch !== undefined; watch = after) {
      after = watch.next;
      const sender = watch.sender!;
      const stream = sender.stream;
      const waiting = stream.writableLength;
      if (!stream.destroyed && this.#stalled(watch, waiting, sender.bodyBytes - waiting, 0, now)) {
        this.#onCut();
        stream.close(constants.NGHTTP2_CANCEL); // RFC 9113 §7: not wanted any more
      }
    }
  }

  #stalled<T>(watch: Watch<T>, waiting: number, taken: number, queued: number, now: number) {
    if (waiting === 0) {
      watch.waiting = false;
      return false;
    }
    if (!watch.waiting || watch.taken !== taken || queued < watch.queued) {
      watch.waiting = true;
      watch.taken = taken;
      watch.queued = queued;
      watch.since = now;
      return false;
    }
    watch.queued = queued; // a new write queued is not progress, but it is the new mark
    return now - watch.since >= this.#timeoutMs;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sockets.clear();
    this.#streams.clear();
  }
}
