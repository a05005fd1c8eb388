/**
 * The dashboard: a small front end (dashboard/ at the package root: plain ES modules, no
 * build step) served on `/`, and its data — one snapshot (`GET /v1/dashboard`) or a snapshot
 * a second over Server-Sent Events (`GET /v1/dashboard/events`). The page is public; the data
 * needs a token, and shows only the projects the token reaches (the fleet and certificates
 * only to the platform's own admin token).
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { join } from 'node:path';
import { openEventStream } from '../../live/event-stream.js';
import { PACKAGE_ROOT } from '../../package-info.js';
import { boundTo, callerOf, READ, type RouteGroup } from '../dependencies.js';

/** How often the event stream sends a snapshot. */
export const DASHBOARD_INTERVAL_MS = 1000;

/** Nothing from elsewhere: no third-party requests, no inline script or style. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export const dashboardRoutes: RouteGroup = (app, deps) => {
  // Read once: the files ship with the package and do not change while it runs.
  const files = new Map(
    Object.keys(ASSETS).map((name) => [name, readFileSync(join(PACKAGE_ROOT, 'dashboard', name))]),
  );
  const send = (name: string) => (_req: unknown, reply: FastifyReply) =>
    reply.headers(PAGE_HEADERS).type(ASSETS[name]!).send(files.get(name));
  app.get('/', { schema: { hide: true } }, send('index.html'));
  for (const name of Object.keys(ASSETS)) {
    app.get(`/dashboard/${name}`, { schema: { hide: true } }, send(name));
  }

  const scopeOf = (request: FastifyRequest) => ({
    projects: boundTo(request),
    trusted: callerOf(request).trusted,
  });
  app.get(
    '/v1/dashboard',
    {
      config: READ,
      schema: {
        tags: ['dashboard'],
        description:
          'What the dashboard shows: the instance and fleet, per-project traffic counters (cumulative; take differences for rates), projects with their newest deployments, domains and replicas, certificates.',
      },
    },
    (request) => deps.dashboard(scopeOf(request)),
  );
  app.get(
    '/v1/dashboard/events',
    {
      config: READ,
      schema: {
        tags: ['dashboard'],
        description: 'Server-Sent Events: a `snapshot` (as `GET /v1/dashboard`) every second.',
      },
    },
    (request, reply) => {
      const scope = scopeOf(request);
      reply.hijack();
      let sequence = 0;
      const timer = setInterval(() => tick(), DASHBOARD_INTERVAL_MS);
      const stream = openEventStream(reply.raw, {}, () => clearInterval(timer));
      const tick = () => stream.send(++sequence, 'snapshot', deps.dashboard(scope));
      tick();
    },
  );
};
