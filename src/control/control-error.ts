/**
 * Errors of the control plane, rendered by the admin API as `application/problem+json`
 * (RFC 9457). `field` names the part of the request that is wrong, as a JSON pointer.
 */
export type ControlErrorCode =
  | 'not-found'
  | 'conflict'
  | 'illegal-transition'
  | 'not-ready'
  | 'invalid'
  | 'store-unavailable'
  | 'forbidden'
  | 'too-large';

const STATUS: Record<ControlErrorCode, number> = {
  'not-found': 404,
  conflict: 409,
  'illegal-transition': 409,
  'not-ready': 409,
  invalid: 400,
  'store-unavailable': 503,
  forbidden: 403,
  'too-large': 413,
};

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(
    code: ControlErrorCode,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ControlError';
    this.code = code;
    this.status = STATUS[code];
    this.field = options.field;
  }
}
