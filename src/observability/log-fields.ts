/**
 * Log field names: a public API (dashboards and alerts read them), defined once.
 * An access-log line has `kind: "access"` and the fields below.
 */
export const LOG = {
  kind: 'kind',
  requestId: 'requestId',
  method: 'method',
  host: 'host',
  path: 'path',
  status: 'status',
  /** What the response sent: HTTP/1.1 head and body; HTTP/2 its body (docs/operations.md). */
  bytes: 'bytes',
  durationMs: 'durationMs',
  clientIp: 'clientIp',
  project: 'project',
  deployment: 'deployment',
  upstream: 'upstream',
  cache: 'cache',
  error: 'error',
  /** The response did not complete (client went away or the origin broke off). */
  aborted: 'aborted',
  /** A WebSocket tunnel's line: bytes from the client to the app (`bytes` is the other way). */
  bytesIn: 'bytesIn',
  /** A WebSocket tunnel's line: why it ended (client, app, idle, refused, error). */
  closedBy: 'closedBy',
} as const;

export const ACCESS_KIND = 'access';
