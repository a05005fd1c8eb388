/** Request and response schemas of the admin API (TypeBox → JSON Schema → OpenAPI). */
import { Type } from '@sinclair/typebox';
import { BalancingSchema } from '../config/schema.js';
import { DEPLOYMENT_STATUSES, NAME_PATTERN, TOKEN_SCOPES } from '../model/vocabulary.js';

export const Name = Type.String({ pattern: NAME_PATTERN, minLength: 1, maxLength: 63 });

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    field: Type.Optional(
      Type.String({ description: 'JSON pointer to the part of the request that is wrong' }),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

const Timestamp = Type.String({ format: 'date-time' });

export const Project = Type.Object({
  slug: Name,
  rootPaths: Type.Array(Type.String()),
  production: Type.Union([Type.String(), Type.Null()]),
  history: Type.Array(Type.String(), {
    description: 'Earlier production deployments, newest first',
  }),
  aliases: Type.Record(Type.String(), Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const ProjectInput = Type.Object(
  {
    slug: Name,
    rootPaths: Type.Optional(Type.Array(Type.String({ pattern: '^/[^?#]*$' }), { maxItems: 32 })),
    httpsRedirect: Type.Optional(Type.Boolean()),
    publicBuildLogs: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ProtectionInput = Type.Union([
  Type.Null(),
  Type.Object(
    {
      scope: Type.Union([Type.Literal('previews'), Type.Literal('all')]),
      password: Type.String({ minLength: 8, maxLength: 200 }),
    },
    { additionalProperties: false },
  ),
]);

/** A token bucket (`requestsPerSecond: 0` lifts the limit). */
const RateInput = Type.Object(
  {
    requestsPerSecond: Type.Number({ minimum: 0, maximum: 1e9 }),
    burst: Type.Integer({ minimum: 1, maximum: 1e9 }),
  },
  { additionalProperties: false },
);

export const ProjectUpdate = Type.Object(
  {
    rootPaths: Type.Optional(Type.Array(Type.String({ pattern: '^/[^?#]*$' }), { maxItems: 32 })),
    httpsRedirect: Type.Optional(Type.Boolean()),
    publicBuildLogs: Type.Optional(Type.Boolean()),
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    rateLimit: Type.Optional(
      Type.Object(
        { perClientIp: Type.Optional(RateInput), perProject: Type.Optional(RateInput) },
        { additionalProperties: false },
      ),
    ),
    protection: Type.Optional(ProtectionInput),
  },
  { additionalProperties: false },
);

export const Status = Type.Union(DEPLOYMENT_STATUSES.map((status) => Type.Literal(status)));

/** Over the API an origin is upstream replicas; static files arrive as an upload. */
export const OriginInput = Type.Object(
  {
    upstream: Type.Object(
      {
        replicas: Type.Array(Type.String({ pattern: '^http://[^/?#@]+$' }), {
          minItems: 1,
          maxItems: 256,
        }),
        weights: Type.Optional(
          Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { maxItems: 256 }),
        ),
        healthCheckPath: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
        balancing: Type.Optional(BalancingSchema),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const Deployment = Type.Object({
  project: Name,
  id: Name,
  status: Status,
  message: Type.Union([Type.String(), Type.Null()]),
  origin: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  meta: Type.Record(Type.String(), Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const DeploymentInput = Type.Object(
  {
    id: Type.Optional(Name),
    status: Type.Optional(Status),
    message: Type.Optional(Type.String({ maxLength: 4096 })),
    origin: Type.Optional(OriginInput),
    meta: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 })),
    ),
  },
  { additionalProperties: false },
);

/** A static deployment from stored blobs: path → SHA-256 and size. */
export const ManifestDeployInput = Type.Object(
  {
    id: Type.Optional(Name),
    files: Type.Record(
      Type.String({ minLength: 1, maxLength: 1024 }),
      Type.Object(
        {
          hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
          size: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
    spa: Type.Optional(Type.Boolean()),
    cleanUrls: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const StatusInput = Type.Object(
  {
    status: Status,
    message: Type.Optional(Type.String({ maxLength: 4096 })),
    origin: Type.Optional(OriginInput),
  },
  { additionalProperties: false },
);

export const LogInput = Type.Object(
  { lines: Type.Array(Type.String({ maxLength: 8192 }), { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

export const PromoteInput = Type.Object({ deployment: Name }, { additionalProperties: false });

export const Domain = Type.Object({
  domain: Type.String(),
  project: Name,
  verified: Type.Boolean(),
  verificationToken: Type.String(),
  createdAt: Timestamp,
});

export const DomainInput = Type.Object(
  { domain: Type.String({ minLength: 1, maxLength: 253 }) },
  { additionalProperties: false },
);

export const TokenInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scope: Type.Union(
      TOKEN_SCOPES.map((scope) => Type.Literal(scope)),
      {
        description:
          '`read` looks; `deploy` also deploys, reports, promotes and purges; `admin` also manages projects, domains and tokens.',
      },
    ),
    projects: Type.Optional(
      Type.Array(Name, {
        minItems: 1,
        maxItems: 1000,
        description:
          'Bind the token to these projects: anything else answers 404. Absent: every project.',
      }),
    ),
    expiresAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'After this time the token answers 401.' }),
    ),
  },
  { additionalProperties: false },
);

export const Token = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scope: Type.String(),
  createdAt: Timestamp,
});

export const PurgeInput = Type.Object(
  {
    project: Type.Optional(Name),
    deployment: Type.Optional(Name),
    url: Type.Optional(Type.String({ pattern: '^/', maxLength: 8192 })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const ProjectParams = Type.Object({ project: Name });
export const DeploymentParams = Type.Object({ project: Name, deployment: Name });
export const Paging = Type.Object({
  after: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export const ShareLinkInput = Type.Object(
  {
    deployment: Type.Optional(Name),
    ttlSeconds: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 86_400 }),
  },
  { additionalProperties: false },
);
