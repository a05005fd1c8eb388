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

/**
 * The same fields as header lines to follow a prebuilt block (http/response-head.ts), from
 * values Switchyard made (the request id, its HSTS policy, the project cookie). Undefined when
 * one has to merge with a field of the block (`Vary` for a request routed by Referer or cookie):
 * the caller then uses `decorateResponseHeaders`.
 */
export function decorationLines(ctx: RequestContext): string | undefined {
  if (ctx.routedByReferral) return undefined;
  let lines = `x-request-id: ${ctx.id}\r\n`;
  if (ctx.hsts !== undefined) lines += `strict-transport-security: ${ctx.hsts}\r\n`;
  if (ctx.projectCookie !== undefined) lines += `set-cookie: ${ctx.projectCookie}\r\n`;
  return lines;
}
