/** The audit trail of admin writes, per project (or the platform's own). */
import { Type, type Static } from '@sinclair/typebox';
import { SwitchyardError } from '../../model/errors.js';
import { boundTo, checkProject, READ, type RouteGroup } from '../dependencies.js';
import * as S from '../schemas.js';

const AuditQuery = Type.Object({
  project: Type.Optional(S.Name),
  after: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const auditRoutes: RouteGroup = (app, { control }) => {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/audit',
    {
      config: READ,
      schema: {
        tags: ['audit'],
        description:
          'Admin writes of a project (`?project=`), or of the platform (tokens, purges naming no project), oldest first: time, token id and name, action, target, result. The last 1,000 of each are kept. An admin token reads any; a token bound to projects reads its own.',
        querystring: AuditQuery,
      },
    },
    (request) => {
      const { project, after, limit } = request.query;
      if (boundTo(request) !== undefined) checkProject(request, project);
      else if (request.principal?.scope !== 'admin') {
        throw new SwitchyardError('SY_FORBIDDEN', 'this token may not do that');
      }
      return control.audit.list(project, { after, limit });
    },
  );
};
