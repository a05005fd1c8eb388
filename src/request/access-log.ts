/** One JSON access-log line per request, written when the response closes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RequestContext } from './request-context.js';
import { ACCESS_KIND, LOG } from '../observability/log-fields.js';
import type { Logger } from '../observability/logger.js';

export function logAccess(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  bytes: number,
): void {
  logger.info({
    [LOG.kind]: ACCESS_KIND,
    [LOG.requestId]: ctx.id,
    [LOG.method]: req.method,
    [LOG.host]: ctx.host,
    [LOG.path]: req.url,
    [LOG.status]: res.statusCode,
    [LOG.bytes]: bytes,
    [LOG.durationMs]: Math.round((performance.now() - ctx.start) * 1000) / 1000,
    [LOG.clientIp]: ctx.clientIp,
    [LOG.project]: ctx.project,
    [LOG.deployment]: ctx.deployment,
    [LOG.upstream]: ctx.upstream,
    [LOG.cache]: ctx.cacheStatus,
    [LOG.error]: ctx.error,
    [LOG.aborted]: res.writableFinished ? undefined : true,
  });
}

/**
 * The access-log line of a WebSocket tunnel, written when it closes: status 101, how long it
 * lived, bytes each way and which side ended it.
 */
export function logTunnel(
  logger: Logger,
  req: IncomingMessage,
  ctx: RequestContext,
  figures: { bytesIn: number; bytesOut: number; closedBy: string },
): void {
  logger.info({
    [LOG.kind]: ACCESS_KIND,
    [LOG.requestId]: ctx.id,
    [LOG.method]: req.method,
    [LOG.host]: ctx.host,
    [LOG.path]: req.url,
    [LOG.status]: 101,
    [LOG.bytes]: figures.bytesOut,
    [LOG.bytesIn]: figures.bytesIn,
    [LOG.durationMs]: Math.round((performance.now() - ctx.start) * 1000) / 1000,
    [LOG.clientIp]: ctx.clientIp,
    [LOG.project]: ctx.project,
    [LOG.deployment]: ctx.deployment,
    [LOG.upstream]: ctx.upstream,
    [LOG.closedBy]: figures.closedBy,
  });
}
