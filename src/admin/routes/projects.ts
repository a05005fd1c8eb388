/** Projects: create, list, read, change, delete. */
import type { Static } from '@sinclair/typebox';
import type { ProjectRecord } from '../../model/records.js';
import {
  ADMIN,
  boundTo,
  checkProject,
  DEPLOY,
  PROBLEMS,
  READ,
  type RouteGroup,
} from '../dependencies.js';
import * as S from '../schemas.js';

/** A project as the API shows it: protection by scope only, never its digests. */
function shown(p: ProjectRecord) {
  const { protection, ...rest } = p;
  return protection === undefined ? rest : { ...rest, protection: { scope: protection.scope } };
}

export const projectRoutes: RouteGroup = (app, deps) => {
  const { control, hub } = deps;
  app.post<{ Body: Static<typeof S.ProjectInput> }>(
    '/v1/projects',
    {
      config: ADMIN,
      schema: { tags: ['projects'], body: S.ProjectInput, response: { ...PROBLEMS } },
    },
    async (request, reply) => {
      checkProject(request, request.body.slug);
      const { project, created } = await control.projects.create(request.body);
      return reply.code(created ? 201 : 200).send(shown(project));
    },
  );
  app.get<{ Querystring: Static<typeof S.Paging> }>(
    '/v1/projects',
    { config: READ, schema: { tags: ['projects'], querystring: S.Paging } },
    async (request) => {
      const bound = boundTo(request);
      if (bound === undefined) {
        const page = await control.projects.list({
          after: request.query.after,
          limit: request.query.limit,
        });
        // The configuration file's projects are served too, but managed in the file.
        const declared = request.query.after === undefined ? control.declaredProjects() : [];
        return { ...page, items: page.items.map(shown), declared };
      }
      // A bound token lists its own projects (those that exist), in one page.
      const own = await Promise.all(
        [...bound].sort().map((slug) => control.projects.get(slug).catch(() => undefined)),
      );
      return { items: own.filter((p) => p !== undefined).map(shown) };
    },
  );
  app.get<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project',
    { config: READ, schema: { tags: ['projects'], params: S.ProjectParams } },
    async (request) => shown(await control.projects.get(request.params.project)),
  );
  app.patch<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.ProjectUpdate> }>(
    '/v1/projects/:project',
    {
      config: ADMIN,
      schema: { tags: ['projects'], params: S.ProjectParams, body: S.ProjectUpdate },
    },
    async (request) => {
      const { protection, ...rest } = request.body;
      const changed =
        protection === undefined
          ? undefined
          : await control.protection.set(request.params.project, protection);
      const project = await control.projects.update(request.params.project, rest);
      return {
        ...shown(project),
        // The bypass secret for automation is in this answer only.
        ...(changed?.bypassSecret === undefined ? {} : { bypassSecret: changed.bypassSecret }),
      };
    },
  );
  app.post<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.ShareLinkInput> }>(
    '/v1/projects/:project/share-links',
    {
      config: DEPLOY,
      schema: {
        tags: ['projects'],
        description:
          'A link into a protected project (a deployment’s preview host, or production) that sets the access cookie, valid for `ttlSeconds` (at most 30 days).',
        params: S.ProjectParams,
        body: S.ShareLinkInput,
      },
    },
    async (request, reply) => {
      const { project } = request.params;
      const { deployment, ttlSeconds } = request.body;
      const { token, expiresAt } = await control.protection.shareLink(
        project,
        deployment,
        ttlSeconds,
      );
      const urls = deps.urls(project, deployment ?? '');
      const base = deployment === undefined ? urls.production[0] : urls.preview;
      return reply.code(201).send({
        url: `${base ?? '/'}?_switchyard_share=${encodeURIComponent(token)}`,
        expiresAt,
      });
    },
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
