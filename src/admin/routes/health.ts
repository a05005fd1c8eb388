/** Public health, Prometheus metrics, "explain this URL" and certificates. */
import { Type } from '@sinclair/typebox';
import { SwitchyardError } from '../../model/errors.js';
import { METRICS_CONTENT_TYPE, metricsText } from '../../observability/metrics.js';
import { boundTo, checkProject, PLATFORM, READ, type RouteGroup } from '../dependencies.js';

const ExplainQuery = Type.Object({ url: Type.String({ minLength: 1, maxLength: 4096 }) });

export const healthRoutes: RouteGroup = (app, deps) => {
  app.get('/health', { schema: { tags: ['health'], security: [] } }, (_req, reply) => {
    const health = deps.health();
    return reply
      .code(health.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(health);
  });
  app.get(
    '/metrics',
    {
      config: PLATFORM,
      schema: { tags: ['health'], description: 'Prometheus metrics of the whole instance.' },
    },
    async (_req, reply) => reply.type(METRICS_CONTENT_TYPE).send(await metricsText()),
  );
  app.get<{ Querystring: { url: string } }>(
    '/v1/explain',
    {
      config: READ,
      schema: {
        tags: ['health'],
        description:
          'Which project, alias, deployment and origin serve a URL, e.g. `?url=http://usera.localhost/about`.',
        querystring: ExplainQuery,
      },
    },
    (request) => {
      let url: URL;
      try {
        url = new URL(request.query.url);
      } catch {
        throw new SwitchyardError(
          'SY_INVALID',
          `"${request.query.url.slice(0, 200)}" is not an absolute URL`,
          { field: '/url' },
        );
      }
      const explained = deps.explain(url.host, `${url.pathname}${url.search}`);
      if (boundTo(request) !== undefined) {
        checkProject(request, (explained as { project?: string } | null)?.project);
      }
      return explained;
    },
  );
  app.get(
    '/v1/certificates',
    {
      config: PLATFORM,
      schema: {
        tags: ['certificates'],
        description:
          'Certificates held, with their expiry and order state (failures, next attempt). Never keys.',
      },
    },
    () => ({ items: deps.certificates() }),
  );
};
