/** Projects: create, list, read, change, delete. */
import type { Static } from '@sinclair/typebox';
import { ADMIN, DEPLOY, PROBLEMS, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

export const projectRoutes: RouteGroup = (app, { control, hub }) => {
  app.post<{ Body: Static<typeof S.ProjectInput> }>(
    '/v1/projects',
    {
      config: ADMIN,
      schema: { tags: ['projects'], body: S.ProjectInput, response: { ...PROBLEMS } },
    },
    async (request, reply) => {
      const { project, created } = await control.projects.create(request.body);
      return reply.code(created ? 201 : 200).send(project);
    },
  );
  app.get<{ Querystring: Static<typeof S.Paging> }>(
    '/v1/projects',
    { config: DEPLOY, schema: { tags: ['projects'], querystring: S.Paging } },
    (request) => control.projects.list({ after: request.query.after, limit: request.query.limit }),
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: DEPLOY, schema: { tags: ['projects'], params: S.ProjectParams } },
    (request) => control.projects.get(request.params.project),
  );
  app.patch<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.ProjectUpdate> }>(
    '/v1/projects/:project',
    {
      config: ADMIN,
      schema: { tags: ['projects'], params: S.ProjectParams, body: S.ProjectUpdate },
    },
    (request) => control.projects.update(request.params.project, request.body),
  );
  app.delete<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: ADMIN, schema: { tags: ['projects'], params: S.ProjectParams } },
    async (request, reply) => {
      await control.deleteProject(request.params.project);
      hub.forgetProject(request.params.project);
      return reply.code(204).send();
    },
  );
};
