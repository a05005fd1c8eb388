/** Incremental deploys: which blobs are missing, and uploading one (see control/blobs.ts). */
import { Type, type Static } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { DEPLOY, PLATFORM, type RouteGroup } from '../dependencies.js';

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

const GcInput = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

/** Garbage collection of blobs now (the platform's own token). */
export const storageRoutes: RouteGroup = (app, deps) => {
  app.post<{ Body: Static<typeof GcInput> | undefined }>(
    '/v1/storage/gc',
    {
      config: PLATFORM,
      schema: {
        tags: ['deployments'],
        description:
          'Delete the blobs no deployment needs and that were stored longer ago than `graceSeconds` (default `storage.gcGraceMs`). 409 while another instance collects.',
        body: GcInput,
      },
    },
    async (request, reply) => {
      const graceMs =
        request.body?.graceSeconds === undefined
          ? deps.blobGcGraceMs
          : request.body.graceSeconds * 1000;
      const result = await deps.control.blobGc.collect(graceMs);
      if (result === undefined) {
        return reply.code(409).send({ detail: 'another instance is collecting now' });
      }
      return result;
    },
  );
};
