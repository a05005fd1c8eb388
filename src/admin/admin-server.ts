/**
 * The admin API: its own listener (loopback by default), bearer tokens, JSON over HTTP with
 * fastify, request schemas, an OpenAPI document at /openapi.json, and errors as
 * `application/problem+json` (RFC 9457) naming the field that is wrong. docs/admin-api.md
 * lists the resources.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { ControlError } from '../control/control-error.js';
import type { ControlPlane } from '../control/control-plane.js';
import type { EventHub } from '../control/event-hub.js';
import { lastEventId, openEventStream, streamDeployment } from '../control/event-stream.js';
import type { DeploymentRecord, TokenRecord, TokenScope } from '../control/records.js';
import type { UpstreamOriginSpec } from '../model/site.js';
import type { Logger } from '../observability/logger.js';
import { METRICS_CONTENT_TYPE, metricsText } from '../observability/metrics.js';
import { VERSION } from '../package-info.js';
import type { Replica } from '../store/replica.js';
import type { JsonValue } from '../store/state-store.js';
import * as S from './schemas.js';
import { newSecret, sha256, type Principal, type TokenVerifier } from './tokens.js';
import type { Uploads } from './uploads.js';

export interface AdminDependencies {
  readonly control: ControlPlane;
  readonly replica: Replica;
  readonly hub: EventHub;
  readonly tokens: TokenVerifier;
  readonly uploads: Uploads;
  readonly logger: Logger;
  /** Health of the whole instance, as /health reports it. */
  health(): { status: 'ok' | 'degraded' | 'closing'; [key: string]: JsonValue };
  /** Which project, alias, deployment and origin serve a URL. */
  explain(host: string, path: string): JsonValue;
  /** Where custom domains should point (`cname` and/or `a`), from `domains.*`. */
  readonly pointTo: { cname?: string; a?: string[] };
  /** Replica states of a deployment's upstream origin, if it has one and it serves. */
  replicas(project: string, deployment: string): JsonValue | undefined;
  /** Certificates and their order state (never keys). */
  certificates(): JsonValue;
  /** Check a custom domain's DNS now; the updated domain record. */
  verifyDomain(domain: string): Promise<JsonValue>;
  /** Where a deployment can be seen: its preview host and the project's production URLs. */
  urls(project: string, deployment: string): { preview?: string; production: string[] };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least scope that may call the route; omitted: public (health, OpenAPI). */
    scope?: TokenScope;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const PROBLEM = 'application/problem+json; charset=utf-8';

export async function startAdminServer(
  deps: AdminDependencies,
  listen: { host: string; port: number; bodyLimitBytes: number },
): Promise<AdminServer> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
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
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  app.addSchema(S.Problem);

  // Upload bodies stay streams: the uploads module reads them itself, with its own limits.
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
      secret === undefined || secret === '' ? undefined : deps.tokens.verify(secret);
    if (principal === undefined) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="switchyard"')
        .type(PROBLEM)
        .send(problem(401, 'unauthorized', 'a valid bearer token is required'));
      return reply;
    }
    if (needed === 'admin' && principal.scope !== 'admin') {
      await reply
        .code(403)
        .type(PROBLEM)
        .send(problem(403, 'forbidden', 'this token may not do that'));
      return reply;
    }
    request.principal = principal;
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ControlError) {
      // The rest of an oversized body is not worth reading: answer, then close.
      if (err.code === 'too-large') void reply.header('connection', 'close');
      return reply
        .code(err.status)
        .type(PROBLEM)
        .send(problem(err.status, err.code, err.message, err.field));
    }
    if (err.validation !== undefined) {
      const first = err.validation[0];
      const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const extra = (first?.params as { additionalProperty?: string } | undefined)
        ?.additionalProperty;
      const field = `${first?.instancePath ?? ''}${missing !== undefined ? `/${missing}` : extra !== undefined ? `/${extra}` : ''}`;
      const where = err.validationContext ?? 'body';
      const detail = `${where}${field === '' ? '' : field}: ${extra !== undefined ? 'unknown property' : (first?.message ?? 'is invalid')}`;
      return reply
        .code(400)
        .type(PROBLEM)
        .send(problem(400, 'invalid', detail, field === '' ? undefined : field));
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      return reply
        .code(status)
        .type(PROBLEM)
        .send(problem(status, err.code ?? 'bad-request', err.message));
    }
    deps.logger.error({ err, url: request.url }, 'admin API request failed');
    return reply
      .code(500)
      .type(PROBLEM)
      .send(problem(500, 'internal', 'the request failed; see the server log'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(PROBLEM)
      .send(
        problem(
          404,
          'not-found',
          `no admin endpoint ${request.method} ${request.url.split('?')[0]}`,
        ),
      ),
  );

  const { control } = deps;
  const withUrls = (d: DeploymentRecord) => ({ ...d, urls: deps.urls(d.project, d.id) });
  const admin = { scope: 'admin' as const };
  const deploy = { scope: 'deploy' as const };
  const problems = {
    400: { $ref: 'Problem#' },
    404: { $ref: 'Problem#' },
    409: { $ref: 'Problem#' },
  };

  // ---- public --------------------------------------------------------------------------
  app.get('/health', { schema: { tags: ['health'], security: [] } }, (_req, reply) => {
    const health = deps.health();
    return reply
      .code(health.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(health);
  });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  app.get(
    '/metrics',
    {
      config: admin,
      schema: { tags: ['health'], description: 'Prometheus metrics of the whole instance.' },
    },
    async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metricsText()),
  );

  // ---- projects ------------------------------------------------------------------------
  app.post<{ Body: Static<typeof S.ProjectInput> }>(
    '/v1/projects',
    {
      config: admin,
      schema: { tags: ['projects'], body: S.ProjectInput, response: { ...problems } },
    },
    async (request, reply) => {
      const { project, created } = await control.createProject(request.body);
      return reply.code(created ? 201 : 200).send(project);
    },
  );
  app.get<{ Querystring: Static<typeof S.Paging> }>(
    '/v1/projects',
    { config: deploy, schema: { tags: ['projects'], querystring: S.Paging } },
    (request) => control.listProjects({ after: request.query.after, limit: request.query.limit }),
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: deploy, schema: { tags: ['projects'], params: S.ProjectParams } },
    (request) => control.getProject(request.params.project),
  );
  app.patch<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.ProjectUpdate> }>(
    '/v1/projects/:project',
    {
      config: admin,
      schema: { tags: ['projects'], params: S.ProjectParams, body: S.ProjectUpdate },
    },
    (request) => control.updateProject(request.params.project, request.body),
  );
  app.delete<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: admin, schema: { tags: ['projects'], params: S.ProjectParams } },
    async (request, reply) => {
      const { deployments } = await control.deleteProject(request.params.project);
      await deps.uploads.removeFiles(deployments);
      deps.hub.forgetProject(request.params.project);
      return reply.code(204).send();
    },
  );

  // ---- deployments ---------------------------------------------------------------------
  app.post<{
    Params: Static<typeof S.ProjectParams>;
    Body: Static<typeof S.DeploymentInput> | NodeJS.ReadableStream;
    Querystring: { id?: string; spa?: boolean; cleanUrls?: boolean };
  }>(
    '/v1/projects/:project/deployments',
    {
      config: deploy,
      schema: {
        tags: ['deployments'],
        description:
          'JSON: register a deployment (upstream replicas, or none yet while it builds). `application/gzip`: upload a .tar.gz of a static build output as a new ready deployment (`?id=`, `?spa=`, `?cleanUrls=`).',
        params: S.ProjectParams,
        querystring: Type_UploadQuery,
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      const key = headerValue(request.headers['idempotency-key']);
      if (isStream(request.body)) {
        const { deployment, created } = await deps.uploads.receive(
          project,
          request.body,
          request.headers['content-length'],
          {
            id: request.query.id,
            spa: request.query.spa ?? false,
            cleanUrls: request.query.cleanUrls ?? true,
            idempotencyKey: key,
          },
        );
        return reply.code(created ? 201 : 200).send(withUrls(deployment));
      }
      const body = checkBody(S.DeploymentInput, request.body);
      const origin = body.origin === undefined ? undefined : upstreamOrigin(body.origin.upstream);
      const { deployment, created } = await control.createDeployment(
        project,
        { ...body, origin },
        key,
      );
      return reply.code(created ? 201 : 200).send(withUrls(deployment));
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/deployments',
    { config: deploy, schema: { tags: ['deployments'], params: S.ProjectParams } },
    async (request) => ({ items: await control.listDeployments(request.params.project) }),
  );
  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment',
    { config: deploy, schema: { tags: ['deployments'], params: S.DeploymentParams } },
    async (request) =>
      withUrls(await control.getDeployment(request.params.project, request.params.deployment)),
  );
  app.post<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.StatusInput> }>(
    '/v1/projects/:project/deployments/:deployment/status',
    {
      config: deploy,
      schema: {
        tags: ['deployments'],
        description:
          'Report status: queued → building → ready | error | canceled. Anything else is 409.',
        params: S.DeploymentParams,
        body: S.StatusInput,
      },
    },
    (request) => {
      const { origin, ...rest } = request.body;
      return control.setStatus(request.params.project, request.params.deployment, {
        ...rest,
        ...(origin === undefined ? {} : { origin: upstreamOrigin(origin.upstream) }),
      });
    },
  );
  app.put<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.OriginInput> }>(
    '/v1/projects/:project/deployments/:deployment/origin',
    {
      config: deploy,
      schema: {
        tags: ['deployments'],
        description:
          'Change the replicas, weights or balancing of a deployment served by containers, while it serves. The old set drains (in-flight requests and WebSockets finish up to `upstream.drainMs`).',
        params: S.DeploymentParams,
        body: S.OriginInput,
      },
    },
    (request) =>
      control.setOrigin(
        request.params.project,
        request.params.deployment,
        upstreamOrigin(request.body.upstream),
      ),
  );
  app.post<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.LogInput> }>(
    '/v1/projects/:project/deployments/:deployment/logs',
    {
      config: deploy,
      schema: { tags: ['deployments'], params: S.DeploymentParams, body: S.LogInput },
    },
    async (request, reply) => {
      const events = await control.appendLog(
        request.params.project,
        request.params.deployment,
        request.body.lines,
      );
      return reply.code(202).send({ appended: events.length, lastSeq: events.at(-1)?.seq ?? 0 });
    },
  );
  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment/events',
    {
      config: deploy,
      schema: {
        tags: ['events'],
        description:
          'Server-Sent Events: `status` and `log`, ids are sequence numbers; resume with Last-Event-ID.',
        params: S.DeploymentParams,
      },
    },
    async (request, reply) => {
      const { project, deployment } = request.params;
      await control.getDeployment(project, deployment);
      reply.hijack();
      streamDeployment(reply.raw, {
        store: control.store,
        hub: deps.hub,
        project,
        deployment,
        after: lastEventId(request.headers['last-event-id']),
      });
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/events',
    {
      config: deploy,
      schema: {
        tags: ['events'],
        description:
          'Server-Sent Events of a project: `snapshot` (its deployments) then `status` of any of its deployments; ids are store revisions.',
        params: S.ProjectParams,
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      const after = lastEventId(request.headers['last-event-id']);
      const backlog = after > 0 ? deps.hub.projectBacklog(project, after) : undefined;
      const snapshot = backlog === undefined ? await control.listDeployments(project) : undefined;
      reply.hijack();
      const unsubscribe = deps.hub.onProject(project, (e) => {
        if (e.event.type === 'status')
          stream.send(e.revision, 'status', {
            deployment: e.deployment,
            ...(e.event.data as object),
          });
      });
      const stream = openEventStream(reply.raw, {}, unsubscribe);
      if (snapshot !== undefined) {
        stream.send(deps.replica.revision, 'snapshot', { deployments: snapshot.map(summary) });
      }
      for (const e of backlog ?? [])
        stream.send(e.revision, 'status', {
          deployment: e.deployment,
          ...(e.event.data as object),
        });
    },
  );

  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment/replicas',
    {
      config: deploy,
      schema: {
        tags: ['deployments'],
        description:
          'Each replica of an upstream deployment on this instance: state (healthy, ejected, unhealthy), weight now, requests in flight, recent error rate and latency.',
        params: S.DeploymentParams,
      },
    },
    async (request) => {
      const { project, deployment } = request.params;
      await control.getDeployment(project, deployment).catch((err: unknown) => {
        // A deployment from the configuration file is not in the store: fine if it routes.
        if (deps.replicas(project, deployment) === undefined) throw err;
      });
      const replicas = deps.replicas(project, deployment);
      if (replicas === undefined) {
        throw new ControlError(
          'not-found',
          `deployment "${deployment}" of "${project}" has no upstream replicas serving here`,
        );
      }
      return { items: replicas };
    },
  );

  // ---- aliases -------------------------------------------------------------------------
  app.post<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.PromoteInput> }>(
    '/v1/projects/:project/promote',
    {
      config: deploy,
      schema: { tags: ['aliases'], params: S.ProjectParams, body: S.PromoteInput },
    },
    (request) => control.promote(request.params.project, request.body.deployment),
  );
  app.post<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/rollback',
    { config: deploy, schema: { tags: ['aliases'], params: S.ProjectParams } },
    (request) => control.rollback(request.params.project),
  );
  app.put<{ Params: { project: string; name: string }; Body: Static<typeof S.PromoteInput> }>(
    '/v1/projects/:project/aliases/:name',
    {
      config: deploy,
      schema: { tags: ['aliases'], params: Type_AliasParams, body: S.PromoteInput },
    },
    (request) =>
      control.setAlias(request.params.project, request.params.name, request.body.deployment),
  );
  app.delete<{ Params: { project: string; name: string } }>(
    '/v1/projects/:project/aliases/:name',
    { config: deploy, schema: { tags: ['aliases'], params: Type_AliasParams } },
    (request) => control.deleteAlias(request.params.project, request.params.name),
  );

  // ---- domains -------------------------------------------------------------------------
  app.post<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.DomainInput> }>(
    '/v1/projects/:project/domains',
    {
      config: admin,
      schema: {
        tags: ['domains'],
        description:
          'Attach a custom domain. It routes once verified (TXT `_switchyard.<domain>` = verificationToken).',
        params: S.ProjectParams,
        body: S.DomainInput,
      },
    },
    async (request, reply) => {
      const { domain, created } = await control.attachDomain(
        request.params.project,
        request.body.domain,
      );
      return reply.code(created ? 201 : 200).send({
        ...domain,
        publish: {
          txt: { name: `_switchyard.${domain.domain}`, value: domain.verificationToken },
          ...deps.pointTo,
        },
      });
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/domains',
    { config: admin, schema: { tags: ['domains'], params: S.ProjectParams } },
    async (request) => ({ items: await control.listDomains(request.params.project) }),
  );
  app.delete<{ Params: { project: string; domain: string } }>(
    '/v1/projects/:project/domains/:domain',
    { config: admin, schema: { tags: ['domains'] } },
    async (request, reply) => {
      await control.detachDomain(request.params.project, request.params.domain.toLowerCase());
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { project: string; domain: string } }>(
    '/v1/projects/:project/domains/:domain/verify',
    {
      config: admin,
      schema: {
        tags: ['domains'],
        description: 'Check the TXT record now (it is also checked on a schedule).',
      },
    },
    async (request) => {
      const domain = request.params.domain.toLowerCase();
      const attached = await control.listDomains(request.params.project);
      if (!attached.some((d) => d.domain === domain)) {
        throw new ControlError(
          'not-found',
          `${domain} is not attached to "${request.params.project}"`,
        );
      }
      return deps.verifyDomain(domain);
    },
  );

  // ---- cache ---------------------------------------------------------------------------
  app.post<{ Body: Static<typeof S.PurgeInput> }>(
    '/v1/cache/purge',
    {
      config: deploy,
      schema: {
        tags: ['cache'],
        description:
          'Remove stored responses matching every given field (project, deployment, url — the path and query as the app sees them — or tag from `Cache-Tag`/`Surrogate-Key`), on every instance.',
        body: S.PurgeInput,
      },
    },
    async (request, reply) => {
      const selector = request.body;
      if (Object.keys(selector).length === 0) {
        throw new ControlError('invalid', 'name at least one of project, deployment, url or tag', {
          field: '/project',
        });
      }
      const key = `purge-${Date.now()}-${randomBytes(4).toString('hex')}`;
      await control.store.commit([{ kind: 'purge', key, value: selector }]);
      // The record only carries the purge to every instance; it is removed a minute later.
      setTimeout(
        () => void control.store.commit([{ kind: 'purge', key, value: null }]).catch(() => {}),
        60_000,
      ).unref();
      return reply.code(202).send({ purge: selector });
    },
  );

  // ---- certificates --------------------------------------------------------------------
  app.get(
    '/v1/certificates',
    {
      config: admin,
      schema: {
        tags: ['certificates'],
        description:
          'Certificates held, with their expiry and order state (failures, next attempt). Never keys.',
      },
    },
    () => ({ items: deps.certificates() }),
  );

  // ---- tokens --------------------------------------------------------------------------
  app.post<{ Body: Static<typeof S.TokenInput> }>(
    '/v1/tokens',
    {
      config: admin,
      schema: {
        tags: ['tokens'],
        description: 'Create a token; its secret is in this response only.',
        body: S.TokenInput,
      },
    },
    async (request, reply) => {
      const secret = newSecret();
      const record: TokenRecord = {
        id: `t${randomBytes(6).toString('hex')}`,
        name: request.body.name,
        scope: request.body.scope,
        sha256: sha256(secret).toString('hex'),
        createdAt: new Date().toISOString(),
      };
      const result = await control.store.commit([
        {
          kind: 'token',
          key: record.id,
          value: record as unknown as JsonValue,
          expectedVersion: 0,
        },
      ]);
      if (!result.ok) throw new ControlError('conflict', 'token id collision; retry');
      return reply.code(201).send({
        id: record.id,
        name: record.name,
        scope: record.scope,
        createdAt: record.createdAt,
        token: secret,
      });
    },
  );
  app.get('/v1/tokens', { config: admin, schema: { tags: ['tokens'] } }, async () => ({
    items: (await control.store.list('token')).map((r) => {
      const t = r.value as unknown as TokenRecord;
      return { id: t.id, name: t.name, scope: t.scope, createdAt: t.createdAt };
    }),
  }));
  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    { config: admin, schema: { tags: ['tokens'] } },
    async (request, reply) => {
      const existing = await control.store.get('token', request.params.id);
      if (existing === undefined)
        throw new ControlError('not-found', `no token ${request.params.id}`);
      await control.store.commit([
        { kind: 'token', key: request.params.id, value: null, expectedVersion: existing.version },
      ]);
      return reply.code(204).send();
    },
  );

  // ---- explain -------------------------------------------------------------------------
  app.get<{ Querystring: { url: string } }>(
    '/v1/explain',
    {
      config: deploy,
      schema: {
        tags: ['health'],
        description:
          'Which project, alias, deployment and origin serve a URL, e.g. `?url=http://usera.localhost/about`.',
        querystring: Type_ExplainQuery,
      },
    },
    (request) => {
      let url: URL;
      try {
        url = new URL(request.query.url);
      } catch {
        throw new ControlError(
          'invalid',
          `"${request.query.url.slice(0, 200)}" is not an absolute URL`,
          { field: '/url' },
        );
      }
      return deps.explain(url.host, `${url.pathname}${url.search}`);
    },
  );

  await app.listen({ host: listen.host, port: listen.port });
  return {
    port: (app.server.address() as AddressInfo).port,
    close: () => app.close(),
  };
}

const Type_UploadQuery = Type.Object({
  id: Type.Optional(S.Name),
  spa: Type.Optional(Type.Boolean()),
  cleanUrls: Type.Optional(Type.Boolean()),
});
const Type_AliasParams = Type.Object({ project: S.Name, name: S.Name });
const Type_ExplainQuery = Type.Object({ url: Type.String({ minLength: 1, maxLength: 4096 }) });

/** An API origin input as the site model's upstream origin; weights must match replicas. */
function upstreamOrigin(input: Static<typeof S.OriginInput>['upstream']): UpstreamOriginSpec {
  if (input.weights !== undefined && input.weights.length !== input.replicas.length) {
    throw new ControlError(
      'invalid',
      `origin.upstream.weights: got ${input.weights.length}, expected one per replica (${input.replicas.length})`,
      { field: '/origin/upstream/weights' },
    );
  }
  return {
    kind: 'upstream',
    replicas: input.replicas,
    ...(input.weights === undefined ? {} : { weights: input.weights }),
    ...(input.healthCheckPath === undefined ? {} : { healthCheckPath: input.healthCheckPath }),
    ...(input.balancing === undefined
      ? {}
      : {
          balancing: {
            policy: input.balancing.policy ?? 'round-robin',
            hashOn: input.balancing.hashOn ?? 'client-ip',
          },
        }),
  };
}

function problem(status: number, code: string, detail: string, field?: string) {
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(field === undefined ? {} : { field }),
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function headerValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined || v === '' ? undefined : v.slice(0, 200);
}

function isStream(body: unknown): body is NodeJS.ReadableStream {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { pipe?: unknown }).pipe === 'function'
  );
}

/** Validate a JSON body against a schema by hand (the route also takes uploads). */
function checkBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  const validate = compiled.get(schema) ?? compile(schema);
  if (!validate(body)) {
    const first = validate.errors?.[0];
    const extra = (first?.params as { additionalProperty?: string } | undefined)
      ?.additionalProperty;
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = `${first?.instancePath ?? ''}${extra !== undefined ? `/${extra}` : missing !== undefined ? `/${missing}` : ''}`;
    throw new ControlError(
      'invalid',
      `body${field}: ${extra !== undefined ? 'unknown property' : (first?.message ?? 'is invalid')}`,
      {
        field: field === '' ? undefined : field,
      },
    );
  }
  return body;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();
function compile(schema: object): ValidateFunction {
  const v = ajv.compile(schema);
  compiled.set(schema, v);
  return v;
}

function summary(d: DeploymentRecord) {
  return { id: d.id, status: d.status, message: d.message, createdAt: d.createdAt };
}

export type { FastifyReply, FastifyRequest };
