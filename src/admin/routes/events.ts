/** Server-Sent Events of a deployment (status, log) and of a project (status of any deployment). */
import type { Static } from '@sinclair/typebox';
import type { DeploymentRecord } from '../../model/records.js';
import { lastEventId, openEventStream, streamDeployment } from '../../live/event-stream.js';
import { READ, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

const summary = (d: DeploymentRecord) => ({
  id: d.id,
  status: d.status,
  message: d.message,
  createdAt: d.createdAt,
});

export const eventRoutes: RouteGroup = (app, deps) => {
  const { control, hub } = deps;
  app.get<{ Params: Static<typeof S.DeploymentParams> }>(
    '/v1/projects/:project/deployments/:deployment/events',
    {
      config: READ,
      schema: {
        tags: ['events'],
        description:
          'Server-Sent Events: `status` and `log`, ids are sequence numbers; resume with Last-Event-ID.',
        params: S.DeploymentParams,
      },
    },
    async (request, reply) => {
      const { project, deployment } = request.params;
      await control.deployments.get(project, deployment);
      const after = lastEventId(request.headers['last-event-id']);
      reply.hijack();
      streamDeployment(reply.raw, {
        live: hub,
        project,
        deployment,
        after,
        // The admin API may wait for the store: the whole log, not only what memory holds.
        backlog: control.deployments.events(project, deployment, after),
      });
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/events',
    {
      config: READ,
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
      const backlog = after > 0 ? hub.projectBacklog(project, after) : undefined;
      const snapshot = backlog === undefined ? await control.deployments.list(project) : undefined;
      reply.hijack();
      const unsubscribe = hub.onProject(project, (e) => {
        if (e.event.type === 'status') {
          stream.send(e.revision, 'status', {
            deployment: e.deployment,
            ...(e.event.data as object),
          });
        }
      });
      const stream = openEventStream(reply.raw, {}, unsubscribe);
      if (snapshot !== undefined) {
        stream.send(deps.revision(), 'snapshot', { deployments: snapshot.map(summary) });
      }
      for (const e of backlog ?? []) {
        stream.send(e.revision, 'status', {
          deployment: e.deployment,
          ...(e.event.data as object),
        });
      }
    },
  );
};
