/**
 * Request ids: a trusted peer's `X-Request-Id` is kept (when it looks like an id), otherwise
 * one is made — a random per-process prefix and a counter, unique without a syscall.
 */
import { randomBytes } from 'node:crypto';

const PREFIX = randomBytes(6).toString('base64url');
let counter = 0;
const ACCEPTABLE = /^[\w.:@/+=-]{1,200}$/;

export function requestId(incoming: string | string[] | undefined, trusted: boolean): string {
  if (trusted && typeof incoming === 'string' && ACCEPTABLE.test(incoming)) return incoming;
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIX}-${counter.toString(36)}`;
}
