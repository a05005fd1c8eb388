/**
 * What a queued or building deployment's URLs answer: its event stream (for the building
 * page's EventSource; capped per client address), the building page for browsers, or the
 * plain 503 status for everyone else.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lastEventId, streamDeployment } from '../live/event-stream.js';
import type { LiveEvents } from '../live/live-events.js';
import { SwitchyardError } from '../model/errors.js';
import { clientKey } from '../net/client-key.js';
import { countRefusal } from '../observability/metrics.js';
import type { RequestContext } from '../request/request-context.js';
import type { RoutedDeployment } from '../routing/route-table.js';
import { renderBuildingPage } from './building-page.js';
import type { ClientCounts } from './connection-guard.js';

/** Public event streams open per client key, and how many each may have (0: no cap). */
export interface EventStreamCap {
  readonly counts: ClientCounts;
  readonly perClient: number;
}

/** What a public building page may follow unless its project shows build logs. */
const STATUS_ONLY: ReadonlySet<string> = new Set(['status']);

export function answerBuilding(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  d: RoutedDeployment,
  options: {
    live: LiveEvents | undefined;
    /** The project shows build log lines publicly (else status only). */
    publicLogs: boolean;
    streams: EventStreamCap | undefined;
  },
): void {
  const accept = req.headers.accept ?? '';
  const live = options.live;
  const project = ctx.project ?? '';
  const method = req.method;
  if (live !== undefined && method === 'GET' && accept.includes('text/event-stream')) {
    const streams = options.streams;
    if (streams !== undefined && streams.perClient > 0) {
      const key = clientKey(ctx.clientIp);
      if (!streams.counts.acquire(key, streams.perClient)) {
        countRefusal('event_streams_per_ip');
        throw new SwitchyardError(
          'SY_TOO_MANY_STREAMS',
          `this address has ${streams.perClient} event streams open already`,
          { headers: { 'retry-after': '5' } },
        );
      }
      res.once('close', () => streams.counts.release(key));
    }
    const after = lastEventId(req.headers['last-event-id']);
    streamDeployment(res, {
      live,
      project,
      deployment: d.id,
      after,
      backlog: live.recent(project, d.id, after), // memory only: the request path never awaits the store
      headers: { 'x-request-id': ctx.id },
      // Build logs often hold secrets: public only where the project opts in.
      ...(options.publicLogs ? {} : { types: STATUS_ONLY }),
    });
    return;
  }
  if ((method === 'GET' || method === 'HEAD') && accept.includes('text/html')) {
    const body = renderBuildingPage(project, d.id, d.status);
    res.writeHead(503, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'retry-after': '5',
      'x-request-id': ctx.id,
    });
    ctx.error = 'SY_DEPLOYMENT_NOT_READY';
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  throw new SwitchyardError(
    'SY_DEPLOYMENT_NOT_READY',
    `deployment ${d.id} of "${project}" is ${d.status}`,
    { headers: { 'retry-after': '5' } },
  );
}
