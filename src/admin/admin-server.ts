/**
 * The admin API: its own listener (loopback by default), bearer tokens, JSON over HTTP with
 * fastify, request schemas, an OpenAPI document at /openapi.json, and errors as
 * `application/problem+json` (RFC 9457) naming the field that is wrong. A thin HTTP face:
 * every rule is the control plane's; routes live one file per resource group in routes/.
 * docs/admin-api.md lists the resources.
 */
import type { AddressInfo, Socket } from 'node:net';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError } from 'fastify';
import { AJV_CODE_OPTIONS } from '../config/ajv-options.js';
import { mayAccess } from '../control/tokens.js';
import { SwitchyardError } from '../model/errors.js';
import { SendTimeouts } from '../net/send-timeout.js';
import { countRefusal } from '../observability/metrics.js';
import { scopeAllows } from '../model/vocabulary.js';
import { VERSION } from '../package-info.js';
import type { AdminDependencies } from './dependencies.js';
import { describeValidation, PROBLEM_TYPE, problem, sendProblem } from './problem.js';
import { aliasRoutes } from './routes/aliases.js';
import { auditRoutes } from './routes/audit.js';
import { cacheRoutes } from './routes/cache.js';
import { deploymentRoutes } from './routes/deployments.js';
import { domainRoutes } from './routes/domains.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { projectRoutes } from './routes/projects.js';
import { tokenRoutes } from './routes/tokens.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { blobRoutes, storageRoutes } from './routes/blobs.js';
import * as S from './schemas.js';

export type { AdminDependencies } from './dependencies.js';

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const ROUTE_GROUPS = [
  healthRoutes,
  projectRoutes,
  deploymentRoutes,
  eventRoutes,
  aliasRoutes,
  domainRoutes,
  cacheRoutes,
  tokenRoutes,
  auditRoutes,
  dashboardRoutes,
  blobRoutes,
  storageRoutes,
];

export async function startAdminServer(
  deps: AdminDependencies,
  listen: {
    host: string;
    port: number;
    /** Time for a request head (`limits.headersTimeoutMs`); 408 after it. */
    headersTimeoutMs?: number;
    /** Time for a whole request, upload included (`limits.requestTimeoutMs`; 0: none). */
    requestTimeoutMs?: number;
    keepAliveTimeoutMs?: number;
    /** A client that takes none of a response for this long is cut off (0: never). */
    sendTimeoutMs?: number;
  },
): Promise<AdminServer> {
  const app = Fastify({
    logger: false,
    // JSON bodies; uploads are streams with their own limits (`admin.uploadMaxBytes`).
    bodyLimit: 1024 * 1024,
    requestTimeout: listen.requestTimeoutMs ?? 300_000,
    keepAliveTimeout: listen.keepAliveTimeoutMs ?? 5_000,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        allErrors: false,
        keywords: ['patternHint'], // the configuration schema's error hints, shared by some routes
        code: AJV_CODE_OPTIONS,
      },
    },
    forceCloseConnections: true,
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchyard admin API',
        version: VERSION,
        description:
          'Projects, deployments, aliases and domains of a Switchyard edge. See docs/admin-api.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(S.Problem);

  // Upload bodies stay streams: the control plane's uploads read them, with their own limits.
  app.addContentTypeParser(
    ['application/gzip', 'application/x-gzip', 'application/octet-stream'],
    (_req, payload, done) => done(null, payload),
  );

  app.addHook('onRequest', async (request, reply) => {
    const needed = request.routeOptions.config.scope;
    if (needed === undefined) return;
    const header = request.headers.authorization;
    const secret = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const principal =
      secret === undefined || secret === '' ? undefined : deps.control.verifier.verify(secret);
    if (principal === undefined) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="switchyard"')
        .type(PROBLEM_TYPE)
        .send(problem('SY_UNAUTHORIZED', 'a valid bearer token is required'));
      return reply;
    }
    request.principal = principal; // refused attempts are audited too
    const bound = principal.projects !== undefined;
    if (!scopeAllows(principal.scope, needed) || (bound && request.routeOptions.config.global)) {
      await reply
        .code(403)
        .type(PROBLEM_TYPE)
        .send(problem('SY_FORBIDDEN', 'this token may not do that'));
      return reply;
    }
    // A token bound to projects does not learn that others exist: 404, as for a missing one.
    const project = (request.params as { project?: unknown } | undefined)?.project;
    if (typeof project === 'string' && !mayAccess(principal, project)) {
      await reply
        .code(404)
        .type(PROBLEM_TYPE)
        .send(problem('SY_RESOURCE_NOT_FOUND', `no project is named "${project.slice(0, 63)}"`));
      return reply;
    }
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof SwitchyardError) {
      // The rest of an oversized body is not worth reading: answer, then close.
      if (err.code === 'SY_TOO_LARGE') void reply.header('connection', 'close');
      return sendProblem(reply, err);
    }
    if (err.validation !== undefined) {
      return sendProblem(
        reply,
        describeValidation(err.validation[0], err.validationContext ?? 'body'),
      );
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return sendProblem(reply, new SwitchyardError('SY_TOO_LARGE', err.message));
    if (status === 415) {
      return sendProblem(reply, new SwitchyardError('SY_UNSUPPORTED_MEDIA_TYPE', err.message));
    }
    if (status < 500) return sendProblem(reply, new SwitchyardError('SY_INVALID', err.message));
    deps.logger.error({ err, url: request.url }, 'admin API request failed');
    return sendProblem(
      reply,
      new SwitchyardError('SY_INTERNAL', 'the request failed; see the server log'),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new SwitchyardError(
        'SY_RESOURCE_NOT_FOUND',
        `no admin endpoint ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );

  // Every write with a token is audited once it is answered, whatever the answer.
  app.addHook('onResponse', async (request, reply) => {
    const principal = request.principal;
    if (principal === undefined || request.method === 'GET' || request.method === 'HEAD') return;
    const { project, ...target } = (request.params ?? {}) as Record<string, string>;
    await deps.control.audit.record({
      at: new Date().toISOString(),
      token: { id: principal.id, name: principal.name },
      action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      project: project ?? bodyProject(request.body) ?? null,
      target,
      result: reply.statusCode,
    });
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  for (const group of ROUTE_GROUPS) group(app, deps);

  // The same slow-client guard as the data plane: a head must arrive within its time, checked
  // every second (Node reads both before 'listening').
  Object.assign(app.server, {
    headersTimeout: listen.headersTimeoutMs ?? 20_000,
    connectionsCheckingInterval: 1000,
  });
  // …and the same send timeout: an event stream's client that reads nothing is cut off.
  const sends = new SendTimeouts(listen.sendTimeoutMs ?? 60_000, () =>
    countRefusal('send_timeout'),
  );
  app.server.on('connection', (socket: Socket) => sends.watchSocket(socket));
  await app.listen({ host: listen.host, port: listen.port });
  return {
    port: (app.server.address() as AddressInfo).port,
    close: async () => {
      sends.close();
      await app.close();
    },
  };
}

/** The project a write names in its body (`POST /v1/projects`, purges), if any. */
function bodyProject(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { slug?: unknown; project?: unknown };
  const p = b.project ?? b.slug;
  return typeof p === 'string' ? p : undefined;
}
