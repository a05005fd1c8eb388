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

/** Where a sender stood when it was last seen making progress with bytes waiting. */
interface Stall {
  /** Bytes it had taken then (completed writes). */
  taken: number;
  /** Bytes of a socket write still queued in libuv (the least seen since). */
  queued: number;
  since: number;
}

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
  readonly #sockets = new Set<Socket>();
  readonly #streams = new Set<StreamSender>();
  readonly #stalls = new Map<Socket | StreamSender, Stall>();
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
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#stalls.delete(socket);
    });
  }

  /** An HTTP/2 response, watched until `forgetStream` (its stream's close). */
  watchStream(sender: StreamSender): void {
    if (this.#timer !== undefined) this.#streams.add(sender);
  }

  forgetStream(sender: StreamSender): void {
    if (this.#streams.delete(sender)) this.#stalls.delete(sender);
  }

  /** One pass: cut whoever has had bytes waiting, and taken none, for the limit. */
  check(now: number): void {
    for (const socket of this.#sockets) {
      if (socket.destroyed) continue; // its 'close' is on the way
      const waiting = socket.writableLength;
      // bytesWritten counts what is still waiting too; what is left is what the kernel took.
      const taken = (socket.bytesWritten ?? 0) - waiting;
      if (this.#stalled(socket, waiting, taken, waiting === 0 ? 0 : queuedIn(socket), now)) {
        this.#onCut();
        socket.destroy();
      }
    }
    for (const sender of this.#streams) {
      const stream = sender.stream;
      const waiting = stream.writableLength;
      if (!stream.destroyed && this.#stalled(sender, waiting, sender.bodyBytes - waiting, 0, now)) {
        this.#onCut();
        stream.close(constants.NGHTTP2_CANCEL); // RFC 9113 §7: not wanted any more
      }
    }
  }

  #stalled(
    sender: Socket | StreamSender,
    waiting: number,
    taken: number,
    queued: number,
    now: number,
  ): boolean {
    const stall = this.#stalls.get(sender);
    if (waiting === 0) {
      if (stall !== undefined) this.#stalls.delete(sender);
      return false;
    }
    if (stall === undefined || stall.taken !== taken || queued < stall.queued) {
      this.#stalls.set(sender, { taken, queued, since: now });
      return false;
    }
    stall.queued = queued; // a new write queued is not progress, but it is the new mark
    return now - stall.since >= this.#timeoutMs;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sockets.clear();
    this.#streams.clear();
    this.#stalls.clear();
  }
}
