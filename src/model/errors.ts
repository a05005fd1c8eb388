/**
 * Every error Switchyard itself reports, in one catalogue: a stable code, the HTTP status,
 * where it came from, whether the same request may simply be sent again, and a title. Data
 * plane pages, admin API problem documents (RFC 9457) and the CLI all use these codes;
 * docs/errors.md lists the same table (a test keeps them in step).
 */

export type ErrorSource =
  | 'client'
  | 'routing'
  | 'deployment'
  | 'origin'
  | 'upstream'
  | 'internal'
  | 'api'
  | 'store'
  | 'config';

interface ErrorKind {
  readonly status: number;
  readonly source: ErrorSource;
  readonly title: string;
  /** Sending the same request again later may succeed (e.g. a 503 while something recovers). */
  readonly retryable: boolean;
}

const kind = (
  status: number,
  source: ErrorSource,
  title: string,
  retryable = false,
): ErrorKind => ({ status, source, title, retryable });

export const ERRORS = {
  // The data plane: answers to internet clients.
  SY_BAD_REQUEST: kind(400, 'client', 'Bad request'),
  SY_BAD_PATH: kind(400, 'client', 'Path not allowed'),
  SY_BAD_HOST: kind(400, 'client', 'Host not allowed'),
  SY_PROTECTED: kind(401, 'routing', 'Protected preview'),
  SY_BODY_TOO_LARGE: kind(413, 'client', 'Request body too large'),
  SY_BODY_TIMEOUT: kind(408, 'client', 'Request body stalled'),
  SY_EXPECTATION_FAILED: kind(417, 'client', 'Expectation failed'),
  SY_RATE_LIMITED: kind(429, 'client', 'Too many requests', true),
  SY_TOO_MANY_CONNECTIONS: kind(429, 'client', 'Too many connections from this client', true),
  SY_TOO_MANY_STREAMS: kind(429, 'client', 'Too many open event streams', true),
  SY_OVER_CAPACITY: kind(503, 'internal', 'Edge at its connection limit', true),
  SY_UNKNOWN_HOST: kind(404, 'routing', 'No project at this host'),
  SY_UNKNOWN_PROJECT: kind(404, 'routing', 'No such project'),
  SY_NO_PRODUCTION: kind(404, 'routing', 'Nothing deployed yet'),
  SY_NOT_FOUND: kind(404, 'origin', 'Not found'),
  SY_STORAGE_UNAVAILABLE: kind(503, 'origin', 'Build output storage unavailable', true),
  SY_METHOD_NOT_ALLOWED: kind(405, 'origin', 'Method not allowed'),
  SY_RANGE_NOT_SATISFIABLE: kind(416, 'origin', 'Range not satisfiable'),
  SY_DEPLOYMENT_NOT_READY: kind(503, 'deployment', 'Deployment is building', true),
  SY_DEPLOYMENT_FAILED: kind(502, 'deployment', 'Deployment failed'),
  SY_DEPLOYMENT_CANCELED: kind(404, 'deployment', 'Deployment canceled'),
  SY_UPSTREAM_UNREACHABLE: kind(502, 'upstream', 'App unreachable', true),
  SY_UPSTREAM_BROKEN: kind(502, 'upstream', 'Bad response from the app'),
  SY_UPSTREAM_TIMEOUT: kind(504, 'upstream', 'App too slow'),
  SY_UPSTREAM_BUSY: kind(503, 'upstream', 'App busy', true),
  SY_SHUTTING_DOWN: kind(503, 'internal', 'Shutting down', true),
  SY_INTERNAL: kind(500, 'internal', 'Internal error'),
  // The admin API and the control plane.
  SY_UNAUTHORIZED: kind(401, 'api', 'Unauthorized'),
  SY_FORBIDDEN: kind(403, 'api', 'Forbidden'),
  SY_INVALID: kind(400, 'api', 'Invalid request'),
  SY_RESOURCE_NOT_FOUND: kind(404, 'api', 'Not found'),
  SY_CONFLICT: kind(409, 'api', 'Conflict', true),
  SY_ILLEGAL_TRANSITION: kind(409, 'api', 'Illegal status transition'),
  SY_NOT_READY: kind(409, 'api', 'Deployment not ready'),
  SY_TOO_LARGE: kind(413, 'api', 'Content too large'),
  SY_UNSUPPORTED_MEDIA_TYPE: kind(415, 'api', 'Unsupported media type'),
  SY_STORE_UNAVAILABLE: kind(503, 'store', 'State store unavailable', true),
  SY_CONFIG_INVALID: kind(400, 'config', 'Invalid configuration'),
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

/** Problem documents name their type by code: `urn:switchyard:error:SY_…`. */
export const problemType = (code: ErrorCode) => `urn:switchyard:error:${code}`;

/**
 * The one error base class: every failure Switchyard reports carries a catalogue code, its
 * HTTP status, source and retry hint, and a detail meant for whoever sent the request.
 */
export class SwitchyardError extends Error {
  readonly status: number;
  readonly source: ErrorSource;
  readonly title: string;
  readonly retryable: boolean;
  /** Extra response headers (Allow, Retry-After, Content-Range …). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The part of the request that is wrong, as a JSON pointer (`/origin/upstream/weights`). */
  readonly field: string | undefined;

  constructor(
    readonly code: ErrorCode,
    /** Shown to the client: say what is wrong, never internals. */
    readonly detail: string,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>>; field?: string },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    const k: ErrorKind = ERRORS[code];
    this.status = k.status;
    this.source = k.source;
    this.title = k.title;
    this.retryable = k.retryable;
    this.headers = options?.headers;
    this.field = options?.field;
    this.name = 'SwitchyardError';
  }
}
