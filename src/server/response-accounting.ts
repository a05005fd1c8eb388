/**
 * What happens when a data-plane response is done: the request metrics, the per-project
 * traffic counters and the access log. One listener function serves every response of a
 * handler — it finds the request's context on the response — so a request allocates no
 * closure or `once` wrapper for it.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { countRequest } from '../observability/metrics.js';
import { logAccess } from '../request/access-log.js';
import type { RequestContext } from '../request/request-context.js';
import type { HandlerOptions } from './request-handler.js';
import { Http2Response } from './http2-exchange.js';

/** Where a response carries its request's context, for the shared 'close' listener. */
const CONTEXT = Symbol('switchyard.context');
type WithContext = ServerResponse & { [CONTEXT]?: RequestContext };

/** When a response is done: metrics, per-project traffic, the access log. */
export function closeListener(
  options: Pick<HandlerOptions, 'traffic' | 'accessLog'>,
): (this: ServerResponse) => void {
  const { traffic, accessLog } = options;
  return function onResponseClose(this: ServerResponse): void {
    const ctx = (this as WithContext)[CONTEXT]!;
    const seconds = (performance.now() - ctx.start) / 1000;
    countRequest(this.statusCode, seconds);
    const bytes = bytesSent(this, ctx);
    if (traffic !== undefined && ctx.project !== undefined) {
      traffic.record(ctx.project, this.statusCode, seconds, bytes, ctx.cacheStatus);
    }
    if (accessLog !== undefined) logAccess(accessLog, this.req, this, ctx, bytes);
  };
}

/**
 * What a response sent: over HTTP/1.1 the connection's growth since the request came (head
 * included; one response at a time per connection), over HTTP/2 its own body bytes.
 */
function bytesSent(res: ServerResponse, ctx: RequestContext): number {
  if ((res as object) instanceof Http2Response) return (res as unknown as Http2Response).bodyBytes;
  return res.req.socket.bytesWritten - ctx.bytesAtStart;
}

/** Run `listener` when `res` closes, with `ctx` to hand. */
export function accountOnClose(
  res: ServerResponse,
  ctx: RequestContext,
  listener: (this: ServerResponse) => void,
): void {
  (res as WithContext)[CONTEXT] = ctx;
  res.on('close', listener);
}
