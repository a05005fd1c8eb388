/** Incremental deploys: which blobs are missing, and uploading one (see control/blobs.ts). */
import { Type, type Static } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { DEPLOY, type RouteGroup } from '../dependencies.js';

const MissingInput = Type.Object(
  { hashes: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 }) },
  { additionalProperties: false },
);
const BlobParams = Type.Object({ hash: Type.String({ maxLength: 64 }) });

export const blobRoutes: RouteGroup = (app, { control: { blobs } }) => {
  app.post<{ Body: Static<typeof MissingInput> }>(
    '/v1/blobs/missing',
    {
      config: DEPLOY,
      schema: {
        tags: ['deployments'],
        description:
          'Which of these SHA-256 hashes the blob store lacks: upload those (`PUT /v1/blobs/{hash}`), then create the deployment from its manifest.',
        body: MissingInput,
      },
    },
    async (request) => ({ missing: await blobs.missing(request.body.hashes) }),
  );
  app.put<{ Params: Static<typeof BlobParams> }>(
    '/v1/blobs/:hash',
    {
      config: DEPLOY,
      schema: {
        tags: ['deployments'],
        description:
          'Store one file (`application/octet-stream`); its SHA-256 must be the hash in the path. Up to `admin.uploadMaxBytes`.',
        params: BlobParams,
      },
    },
    async (request, reply) => {
      await blobs.put(
        request.params.hash,
        request.body as Readable,
        request.headers['content-length'],
      );
      return reply.code(201).send({ hash: request.params.hash });
    },
  );
};
