/**
 * Admin API errors as `application/problem+json` (RFC 9457): the type names the catalogue
 * code (model/errors.ts), `field` the part of the request that is wrong (a JSON pointer).
 */
import type { FastifyReply } from 'fastify';
import { ERRORS, problemType, SwitchyardError, type ErrorCode } from '../model/errors.js';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  field?: string;
}

export function problem(code: ErrorCode, detail: string, field?: string): Problem {
  const kind = ERRORS[code];
  return {
    type: problemType(code),
    title: kind.title,
    status: kind.status,
    detail,
    code,
    ...(field === undefined || field === '' ? {} : { field }),
  };
}

/** Answers with the problem document of `err`. */
export function sendProblem(reply: FastifyReply, err: SwitchyardError): FastifyReply {
  if (err.retryable && err.status === 503) void reply.header('retry-after', '1');
  return reply
    .code(err.status)
    .type(PROBLEM_TYPE)
    .send(problem(err.code, err.detail, err.field));
}

/** The first failure of an AJV validation as a field pointer and a sentence. */
export function describeValidation(
  first: { instancePath?: string; message?: string; params?: unknown } | undefined,
  where: string,
): SwitchyardError {
  const params = first?.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params?.additionalProperty;
  const missing = params?.missingProperty;
  const field = `${first?.instancePath ?? ''}${missing !== undefined ? `/${missing}` : extra !== undefined ? `/${extra}` : ''}`;
  const detail = `${where}${field}: ${extra !== undefined ? 'unknown property' : (first?.message ?? 'is invalid')}`;
  return new SwitchyardError('SY_INVALID', detail, { field });
}
