/**
 * Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html) of a
 * deployment or a project: the backlog after `Last-Event-ID`, then live events, with a
 * heartbeat comment so proxies and browsers keep the stream open. Used by the admin API and,
 * read-only, by the building page on the data plane (which reads only memory).
 */
import type { ServerResponse } from 'node:http';
import type { LiveEvent, LiveEvents } from './live-events.js';

export const HEARTBEAT_MS = 15_000;
/**
 * A client this far behind (bytes written and not yet taken) is dropped rather than buffered
 * for: it reconnects with `Last-Event-ID` and resumes from the backlog. The send timeout
 * (`limits.sendTimeoutMs`) ends one that takes nothing at all.
 */
export const MAX_BEHIND_BYTES = 1024 * 1024;

export interface EventStream {
  send(id: string | number, event: string, data: unknown): void;
  comment(text: string): void;
  readonly closed: boolean;
}

/** Write the SSE head and start the heartbeat; `onClose` runs once when the client goes. */
export function openEventStream(
  res: ServerResponse,
  headers: Record<string, string>,
  onClose: () => void,
): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.flushHeaders();
  // Tell the browser how soon to reconnect (ms) if the stream drops.
  res.write('retry: 2000\n\n');
  let closed = false;
  const write = (text: string): void => {
    if (res.writableLength > MAX_BEHIND_BYTES) res.destroy();
    else res.write(text);
  };
  const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  res.once('close', () => {
    closed = true;
    clearInterval(heartbeat);
    onClose();
  });
  return {
    send(id, event, data) {
      if (!closed) write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      if (!closed) write(`: ${text.replace(/\n/g, ' ')}\n\n`);
    },
    get closed() {
      return closed;
    },
  };
}

/** `Last-Event-ID` as a non-negative integer, else 0 (start from the oldest kept). */
export function lastEventId(header: string | string[] | undefined): number {
  const raw = Array.isArray(header) ? header[0] : header;
  const n = Number(raw);
  return raw !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * A deployment's events: `status` ({status, message}) and `log` ({line}), each with its
 * sequence number as id: the backlog after `after`, then live ones. Subscribes before the
 * backlog is read so nothing falls between; a backlog that fails to load is said in a
 * comment and live events follow.
 */
export function streamDeployment(
  res: ServerResponse,
  options: {
    live: LiveEvents;
    project: string;
    deployment: string;
    after: number;
    /** Events after `after`: from memory on the data plane, from the store on the admin API. */
    backlog: readonly LiveEvent[] | Promise<readonly LiveEvent[]>;
    headers?: Record<string, string>;
    /** Only these event types (the public building page: `status`, not build logs). */
    types?: ReadonlySet<string>;
  },
): void {
  let sent = options.after;
  const pending: LiveEvent[] = [];
  let live = false;
  const types = options.types;
  const deliver = (e: LiveEvent) => {
    if (e.seq <= sent || (types !== undefined && !types.has(e.type))) return;
    sent = e.seq;
    stream.send(e.seq, e.type, e.data);
  };
  const unsubscribe = options.live.subscribe(options.project, options.deployment, (e) =>
    live ? deliver(e) : pending.push(e),
  );
  const stream = openEventStream(res, options.headers ?? {}, unsubscribe);
  const start = (backlog: readonly LiveEvent[]) => {
    for (const event of backlog) deliver(event);
    for (const e of pending) deliver(e);
    pending.length = 0;
    live = true;
  };
  const backlog = options.backlog;
  if (!(backlog instanceof Promise)) {
    start(backlog);
    return;
  }
  backlog
    .catch(() => {
      stream.comment('the backlog is unavailable (state store unreachable); live events follow');
      return [];
    })
    .then(start)
    .catch(() => res.destroy());
}
