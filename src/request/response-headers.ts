/**
 * Headers Switchyard adds to every response it sends on behalf of an origin, in one place:
 * the request id, the `sy-project` cookie for root-path referral, and `Vary` for responses
 * routed by Referer or cookie.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from './request-context.js';

function appendValue(current: OutgoingHttpHeaders[string], value: string): string | string[] {
  if (current === undefined) return value;
  if (Array.isArray(current)) return [...current, value];
  return [String(current), value];
}

export function decorateResponseHeaders(
  headers: OutgoingHttpHeaders,
  ctx: RequestContext,
): OutgoingHttpHeaders {
  headers['x-request-id'] = ctx.id;
  if (ctx.routedByReferral) {
    // The route depended on these request headers (RFC 9110 §12.5.5).
    const vary = headers.vary;
    headers.vary = vary === undefined ? 'Referer, Cookie' : `${String(vary)}, Referer, Cookie`;
  }
  if (ctx.hsts !== undefined) headers['strict-transport-security'] = ctx.hsts;
  if (ctx.projectCookie !== undefined) {
    headers['set-cookie'] = appendValue(headers['set-cookie'], ctx.projectCookie);
  }
  return headers;
}
