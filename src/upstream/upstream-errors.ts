/**
 * What an upstream failure means for the client, and whether another replica may be tried.
 * Only failures to connect are retryable: nothing reached the app, so nothing can happen twice.
 */
import { SwitchyardError } from '../model/errors.js';

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The request never reached the replica. */
export function isConnectFailure(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CONNECT_FAILURES.has(code);
}

/** The connection broke (reset, closed) — for a request that got no answer yet. */
const CUT = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export function isCutBeforeAnswer(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && CUT.has(code);
}

export function toClientError(err: unknown, replica: string): SwitchyardError {
  const code = codeOf(err) ?? 'unknown';
  if (TIMEOUTS.has(code)) {
    const what = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect' : 'answer';
    return new SwitchyardError('SY_UPSTREAM_TIMEOUT', `the app did not ${what} in time`, {
      cause: err,
    });
  }
  if (isConnectFailure(err)) {
    return new SwitchyardError(
      'SY_UPSTREAM_UNREACHABLE',
      `no replica of this deployment accepts connections (last tried ${replica}: ${code})`,
      { cause: err },
    );
  }
  return new SwitchyardError('SY_UPSTREAM_BROKEN', `the app broke off its response (${code})`, {
    cause: err,
  });
}
