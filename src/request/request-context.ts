import type { ProjectRateLimits } from '../model/rate-limit.js';
import type { SwitchyardError } from '../model/errors.js';

/**
 * What one request carries through the phases: who asked, where it was routed, and what the
 * access log records at the end. One small object per request, filled in as phases run.
 */
export interface RequestContext {
  readonly id: string;
  /** performance.now() when the request arrived. */
  readonly start: number;
  /** Address of the client as far as trusted proxies vouch for it. */
  readonly clientIp: string;
  /** Address of the connection's other end (the client, or the proxy in front). */
  readonly peer: string;
  /** The peer is a trusted proxy: its X-Forwarded-* are kept and extended. */
  readonly trustedPeer: boolean;
  /** `http` or `https`, as the client sees it. */
  readonly proto: string;
  /** Normalised host the request was routed by. */
  host: string;
  /** What the app receives as Host (the routed host and the client's port), and the cache keys on. */
  authority: string;
  /** Path and query to send to the origin (the path-routing prefix removed). */
  path: string;
  /** `/<slug>` under path routing, else empty. */
  prefix: string;
  project: string | undefined;
  deployment: string | undefined;
  upstream: string | undefined;
  cacheStatus: string | undefined;
  /** Error code when the request ended with one of Switchyard's own errors. */
  error: string | undefined;
  /** Route chosen by a Referer/cookie hint: the response must say it varies by them. */
  routedByReferral: boolean;
  /** `Set-Cookie` value to add to the response (root-path referral), if any. */
  projectCookie: string | undefined;
  /** The routed project wants HTTPS (redirect plain HTTP; HSTS on HTTPS). */
  httpsRedirect: boolean;
  /** `Strict-Transport-Security` value to add, if any. */
  hsts: string | undefined;
  /** Largest request body passed on (the project's, else `limits.maxBodyBytes`); 0: none. */
  bodyLimit: number;
  /** The connection's bytes written when the request arrived (its response's size is the rest). */
  bytesAtStart: number;
  /** The routed project's own rate limits, if it has any. */
  rateLimit: ProjectRateLimits | undefined;
  /** Where an error that is Switchyard's own fault is reported (the server's log). */
  readonly onInternalError: (err: SwitchyardError) => void;
}
