/** Request-body helpers shared by route groups: hand validation, API inputs as model values. */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { AJV_CODE_OPTIONS } from '../config/ajv-options.js';
import { SwitchyardError } from '../model/errors.js';
import type { UpstreamOriginSpec } from '../model/site.js';
import { describeValidation } from './problem.js';
import type * as S from './schemas.js';

const ajv = new Ajv({ allErrors: false, strict: false, code: AJV_CODE_OPTIONS });
const compiled = new WeakMap<object, ValidateFunction>();

/** Validate a JSON body against a schema by hand (for routes that also take uploads). */
export function checkBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  let validate = compiled.get(schema);
  if (validate === undefined) compiled.set(schema, (validate = ajv.compile(schema)));
  if (!validate(body)) throw describeValidation(validate.errors?.[0], 'body');
  return body;
}

/** An API origin input as the site model's upstream origin; weights must match replicas. */
export function upstreamOrigin(
  input: Static<typeof S.OriginInput>['upstream'],
): UpstreamOriginSpec {
  if (input.weights !== undefined && input.weights.length !== input.replicas.length) {
    throw new SwitchyardError(
      'SY_INVALID',
      `origin.upstream.weights: got ${input.weights.length}, expected one per replica (${input.replicas.length})`,
      { field: '/origin/upstream/weights' },
    );
  }
  return {
    kind: 'upstream',
    replicas: input.replicas,
    ...(input.weights === undefined ? {} : { weights: input.weights }),
    ...(input.healthCheckPath === undefined ? {} : { healthCheckPath: input.healthCheckPath }),
    ...(input.balancing === undefined
      ? {}
      : {
          balancing: {
            policy: input.balancing.policy ?? 'round-robin',
            hashOn: input.balancing.hashOn ?? 'client-ip',
          },
        }),
  };
}

export function headerValue(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined || v === '' ? undefined : v.slice(0, 200);
}

export function isStream(body: unknown): body is NodeJS.ReadableStream {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { pipe?: unknown }).pipe === 'function'
  );
}
