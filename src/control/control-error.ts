/**
 * Errors of the control plane: the admin API renders them as `application/problem+json`
 * (RFC 9457), `field` naming the part of the request that is wrong, as a JSON pointer.
 */
import { SwitchyardError, type ErrorCode } from '../model/errors.js';

export type ControlErrorCode = Extract<
  ErrorCode,
  | 'SY_RESOURCE_NOT_FOUND'
  | 'SY_CONFLICT'
  | 'SY_ILLEGAL_TRANSITION'
  | 'SY_NOT_READY'
  | 'SY_INVALID'
  | 'SY_STORE_UNAVAILABLE'
  | 'SY_FORBIDDEN'
  | 'SY_TOO_LARGE'
  | 'SY_STORAGE_UNAVAILABLE'
>;

export class ControlError extends SwitchyardError {
  declare readonly code: ControlErrorCode;

  constructor(
    code: ControlErrorCode,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = 'ControlError';
  }
}
