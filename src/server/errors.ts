/**
 * Every error a client can see from Switchyard itself, in one catalogue: a stable code, the
 * HTTP status, where it came from, and the title shown on the error page. docs/errors.md
 * lists the same table.
 */

export type ErrorSource = 'client' | 'routing' | 'deployment' | 'origin' | 'upstream' | 'internal';

interface ErrorKind {
  readonly status: number;
  readonly source: ErrorSource;
  readonly title: string;
}

export const ERRORS = {
  SY_BAD_REQUEST: { status: 400, source: 'client', title: 'Bad request' },
  SY_BAD_PATH: { status: 400, source: 'client', title: 'Path not allowed' },
  SY_UNKNOWN_HOST: { status: 404, source: 'routing', title: 'No project at this host' },
  SY_UNKNOWN_PROJECT: { status: 404, source: 'routing', title: 'No such project' },
  SY_NO_PRODUCTION: { status: 404, source: 'routing', title: 'Nothing deployed yet' },
  SY_NOT_FOUND: { status: 404, source: 'origin', title: 'Not found' },
  SY_METHOD_NOT_ALLOWED: { status: 405, source: 'origin', title: 'Method not allowed' },
  SY_RANGE_NOT_SATISFIABLE: { status: 416, source: 'origin', title: 'Range not satisfiable' },
  SY_DEPLOYMENT_NOT_READY: { status: 503, source: 'deployment', title: 'Deployment is building' },
  SY_DEPLOYMENT_FAILED: { status: 502, source: 'deployment', title: 'Deployment failed' },
  SY_DEPLOYMENT_CANCELED: { status: 404, source: 'deployment', title: 'Deployment canceled' },
  SY_UPSTREAM_UNREACHABLE: { status: 502, source: 'upstream', title: 'App unreachable' },
  SY_UPSTREAM_BROKEN: { status: 502, source: 'upstream', title: 'Bad response from the app' },
  SY_UPSTREAM_TIMEOUT: { status: 504, source: 'upstream', title: 'App too slow' },
  SY_UPSTREAM_BUSY: { status: 503, source: 'upstream', title: 'App busy' },
  SY_SHUTTING_DOWN: { status: 503, source: 'internal', title: 'Shutting down' },
  SY_INTERNAL: { status: 500, source: 'internal', title: 'Internal error' },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

/** One of Switchyard's own errors, with a stable code and a detail for the client. */
export class SwitchyardError extends Error {
  readonly status: number;
  readonly source: ErrorSource;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    /** Shown to the client: say what is wrong, never internals. */
    readonly detail: string,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>> },
  ) {
    super(
      `${code}: ${detail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    const kind: ErrorKind = ERRORS[code];
    this.status = kind.status;
    this.source = kind.source;
    this.title = kind.title;
    this.headers = options?.headers;
    this.name = 'SwitchyardError';
  }

  /** Extra response headers (Allow, Retry-After, Content-Range …). */
  readonly headers: Readonly<Record<string, string>> | undefined;
}
