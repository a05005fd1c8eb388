/** Deployments: register or upload, read, report status, change origin, logs, replicas. */
import { Type, type Static } from '@sinclair/typebox';
import type { DeploymentRecord } from '../../model/records.js';
import { SwitchyardError } from '../../model/errors.js';
import { checkBody, headerValue, isStream, upstreamOrigin } from '../body.js';
import { callerOf, DEPLOY, READ, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

const UploadQuery = Type.Object({
  id: Type.Optional(S.Name),
  spa: Type.Optional(Type.Boolean()),
  cleanUrls: Type.Optional(Type.Boolean()),
});

export const deploymentRoutes: RouteGroup = (app, deps) => {
  const { deployments, uploads } = deps.control;
  const withUrls = (d: DeploymentRecord) => ({ ...d, urls: deps.urls(d.project, d.id) });

  app.post<{
    Params: Static<typeof S.ProjectParams>;
    Body: Static<typeof S.DeploymentInput> | NodeJS.ReadableStream;
    Querystring: Static<typeof UploadQuery>;
  }>(
    '/v1/projects/:project/deployments',
    {
      config: DEPLOY,
      // A manifest of many files is larger than the usual JSON body.
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        tags: ['deployments'],
        description:
          'JSON: register a deployment (upstream replicas, or none yet while it builds), or `{files}`: a ready static deployment from a manifest of stored blobs (incremental deploys). `application/gzip`: upload a .tar.gz of a static build output as a new ready deployment (`?id=`, `?spa=`, `?cleanUrls=`).',
        params: S.ProjectParams,
        querystring: UploadQuery,
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      const key = headerValue(request.headers['idempotency-key']);
      if (isStream(request.body)) {
        const { deployment, created } = await uploads.receive(
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
      if (typeof request.body === 'object' && request.body !== null && 'files' in request.body) {
        // An incremental deploy: a manifest of blobs already stored.
        const manifest = checkBody(S.ManifestDeployInput, request.body);
        const { deployment, created } = await deps.control.blobs.deploy(project, manifest, key);
        return reply.code(created ? 201 : 200).send(withUrls(deployment));
      }
      const body = checkBody(S.DeploymentInput, request.body);
      const origin = body.origin === undefined ? undefined : upstreamOrigin(body.origin.upstream);
      const { deployment, created } = await deployments.create(
        project,
        { ...body, origin },
        key,
        callerOf(request),
      );
      return reply.code(created ? 201 : 200).send(withUrls(deployment));
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/deployments',
    { config: READ, schema: { tags: ['deployments'], params: S.ProjectParams } },
    async (request) => ({ items: await deployments.list(request.params.project) }),
  );
  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment',
    { config: READ, schema: { tags: ['deployments'], params: S.DeploymentParams } },
    async (request) =>
      withUrls(await deployments.get(request.params.project, request.params.deployment)),
  );
  app.post<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.StatusInput> }>(
    '/v1/projects/:project/deployments/:deployment/status',
    {
      config: DEPLOY,
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
      return deployments.setStatus(
        request.params.project,
        request.params.deployment,
        { ...rest, ...(origin === undefined ? {} : { origin: upstreamOrigin(origin.upstream) }) },
        callerOf(request),
      );
    },
  );
  app.put<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.OriginInput> }>(
    '/v1/projects/:project/deployments/:deployment/origin',
    {
      config: DEPLOY,
      schema: {
        tags: ['deployments'],
        description:
          'Change the replicas, weights or balancing of a deployment served by containers, while it serves. The old set drains (in-flight requests and WebSockets finish up to `upstream.drainMs`).',
        params: S.DeploymentParams,
        body: S.OriginInput,
      },
    },
    (request) =>
      deployments.setOrigin(
        request.params.project,
        request.params.deployment,
        upstreamOrigin(request.body.upstream),
        callerOf(request),
      ),
  );
  app.get<{ Params: Static<typeof S.DeploymentParams>; Querystring: { after?: number } }>(
    '/v1/projects/:project/deployments/:deployment/logs',
    {
      config: READ,
      schema: {
        tags: ['deployments'],
        description:
          'The deployment’s status and log events so far, oldest first (`after`: a sequence number); the same as its event stream, as one JSON page.',
        params: S.DeploymentParams,
        querystring: {
          type: 'object',
          properties: { after: { type: 'integer', minimum: 0 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({
      items: await deployments.events(
        request.params.project,
        request.params.deployment,
        request.query.after ?? 0,
      ),
    }),
  );
  app.post<{ Params: Static<typeof S.DeploymentParams>; Body: Static<typeof S.LogInput> }>(
    '/v1/projects/:project/deployments/:deployment/logs',
    {
      config: DEPLOY,
      schema: { tags: ['deployments'], params: S.DeploymentParams, body: S.LogInput },
    },
    async (request, reply) => {
      const events = await deployments.appendLog(
        request.params.project,
        request.params.deployment,
        request.body.lines,
      );
      return reply.code(202).send({ appended: events.length, lastSeq: events.at(-1)?.seq ?? 0 });
    },
  );
  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment/replicas',
    {
      config: READ,
      schema: {
        tags: ['deployments'],
        description:
          'Each replica of an upstream deployment on this instance: state (healthy, ejected, unhealthy), weight now, requests in flight, recent error rate and latency.',
        params: S.DeploymentParams,
      },
    },
    async (request) => {
      const { project, deployment } = request.params;
      await deployments.get(project, deployment).catch((err: unknown) => {
        // A deployment from the configuration file is not in the store: fine if it routes.
        if (deps.replicas(project, deployment) === undefined) throw err;
      });
      const replicas = deps.replicas(project, deployment);
      if (replicas === undefined) {
        throw new SwitchyardError(
          'SY_RESOURCE_NOT_FOUND',
          `deployment "${deployment}" of "${project}" has no upstream replicas serving here`,
        );
      }
      return { items: replicas };
    },
  );
};
