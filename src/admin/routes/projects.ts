/** Projects: create, list, read, change, delete. */
import type { Static } from '@sinclair/typebox';
import { ADMIN, boundTo, checkProject, PROBLEMS, READ, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

export const projectRoutes: RouteGroup = (app, { control, hub }) => {
  app.post<{ Body: Static<typeof S.ProjectInput> }>(
    '/v1/projects',
    {
      config: ADMIN,
      schema: { tags: ['projects'], body: S.ProjectInput, response: { ...PROBLEMS } },
    },
    async (request, reply) => {
      checkProject(request, request.body.slug);
      const { project, created } = await control.projects.create(request.body);
      return reply.code(created ? 201 : 200).send(project);
    },
  );
  app.get<{ Querystring: Static<typeof S.Paging> }>(
    '/v1/projects',
    { config: READ, schema: { tags: ['projects'], querystring: S.Paging } },
    async (request) => {
      const bound = boundTo(request);
      if (bound === undefined) {
        return control.projects.list({ after: request.query.after, limit: request.query.limit });
      }
      // A bound token lists its own projects (those that exist), in one page.
      const own = await Promise.all(
        [...bound].sort().map((slug) => control.projects.get(slug).catch(() => undefined)),
      );
      return { items: own.filter((p) => p !== undefined) };
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: READ, schema: { tags: ['projects'], params: S.ProjectParams } },
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
