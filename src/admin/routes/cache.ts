/** Cache purges, carried to every instance of a fleet by the store. */
import type { Static } from '@sinclair/typebox';
import { checkProject, DEPLOY, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

export const cacheRoutes: RouteGroup = (app, { control }) => {
  app.post<{ Body: Static<typeof S.PurgeInput> }>(
    '/v1/cache/purge',
    {
      config: DEPLOY,
      schema: {
        tags: ['cache'],
        description:
          'Remove stored responses matching every given field (project, deployment, url — the path and query as the app sees them — or tag from `Cache-Tag`/`Surrogate-Key`), on every instance.',
        body: S.PurgeInput,
      },
    },
    async (request, reply) => {
      checkProject(request, request.body.project); // a bound token purges only its own
      await control.purges.purge(request.body);
      return reply.code(202).send({ purge: request.body });
    },
  );
};
