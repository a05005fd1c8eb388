/** API tokens: create (the secret is shown once), list, revoke. */
import type { Static } from '@sinclair/typebox';
import { PLATFORM, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

export const tokenRoutes: RouteGroup = (app, { control: { tokens } }) => {
  app.post<{ Body: Static<typeof S.TokenInput> }>(
    '/v1/tokens',
    {
      config: PLATFORM,
      schema: {
        tags: ['tokens'],
        description: 'Create a token; its secret is in this response only.',
        body: S.TokenInput,
      },
    },
    async (request, reply) => reply.code(201).send(await tokens.create(request.body)),
  );
  app.get('/v1/tokens', { config: PLATFORM, schema: { tags: ['tokens'] } }, async () => ({
    items: await tokens.list(),
  }));
  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    { config: PLATFORM, schema: { tags: ['tokens'] } },
    async (request, reply) => {
      await tokens.delete(request.params.id);
      return reply.code(204).send();
    },
  );
};
