/** Custom domains: attach (with what to publish), list, check now, detach. */
import type { Static } from '@sinclair/typebox';
import { ADMIN, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

export const domainRoutes: RouteGroup = (app, deps) => {
  const { domains } = deps.control;
  app.post<{ Params: Static<typeof S.ProjectParams>; Body: Static<typeof S.DomainInput> }>(
    '/v1/projects/:project/domains',
    {
      config: ADMIN,
      schema: {
        tags: ['domains'],
        description:
          'Attach a custom domain. It routes once verified (TXT `_switchyard.<domain>` = verificationToken).',
        params: S.ProjectParams,
        body: S.DomainInput,
      },
    },
    async (request, reply) => {
      const { domain, created } = await domains.attach(request.params.project, request.body.domain);
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
    { config: ADMIN, schema: { tags: ['domains'], params: S.ProjectParams } },
    async (request) => ({ items: await domains.list(request.params.project) }),
  );
  app.delete<{ Params: { project: string; domain: string } }>(
    '/v1/projects/:project/domains/:domain',
    { config: ADMIN, schema: { tags: ['domains'] } },
    async (request, reply) => {
      await domains.detach(request.params.project, request.params.domain.toLowerCase());
      return reply.code(204).send();
    },
  );
  app.post<{ Params: { project: string; domain: string } }>(
    '/v1/projects/:project/domains/:domain/verify',
    {
      config: ADMIN,
      schema: {
        tags: ['domains'],
        description: 'Check the TXT record now (it is also checked on a schedule).',
      },
    },
    async (request) => {
      const domain = request.params.domain.toLowerCase();
      await domains.get(request.params.project, domain);
      return deps.verifyDomain(domain);
    },
  );
};
