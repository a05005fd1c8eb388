/** Production and branch aliases: promote, roll back, set and remove. */
import { Type, type Static } from '@sinclair/typebox';
import { DEPLOY, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

const AliasParams = Type.Object({ project: S.Name, name: S.Name });

export const aliasRoutes: RouteGroup = (app, { control: { aliases } }) => {
  app.post<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.PromoteInput> }>(
    '/v1/projects/:project/promote',
    {
      config: DEPLOY,
      schema: { tags: ['aliases'], params: S.ProjectParams, body: S.PromoteInput },
    },
    (request) => aliases.promote(request.params.project, request.body.deployment),
  );
  app.post<{ Params: Static<typeof S.ProjectParams> }>(
    '/v1/projects/:project/rollback',
    { config: DEPLOY, schema: { tags: ['aliases'], params: S.ProjectParams } },
    (request) => aliases.rollback(request.params.project),
  );
  app.put<{ Params: Static<typeof AliasParams>; Body: Static<typeof S.PromoteInput> }>(
    '/v1/projects/:project/aliases/:name',
    {
      config: DEPLOY,
      schema: { tags: ['aliases'], params: AliasParams, body: S.PromoteInput },
    },
    (request) => aliases.set(request.params.project, request.params.name, request.body.deployment),
  );
  app.delete<{ Params: Static<typeof AliasParams> }>(
    '/v1/projects/:project/aliases/:name',
    { config: DEPLOY, schema: { tags: ['aliases'], params: AliasParams } },
    (request) => aliases.delete(request.params.project, request.params.name),
  );
};
