/**
 * The one error renderer: every error page Switchyard answers with comes from here.
 * HTML for browsers, JSON (RFC 9457 problem fields) for clients that ask for JSON. Errors
 * that are Switchyard's own fault go to the reporter the request context carries (the
 * server's logger), so two servers in one process each log their own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestContext } from './request-context.js';
import { problemType, type SwitchyardError } from '../model/errors.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Prefers JSON when the client asks for application/json and not for HTML. */
export function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('json') && !accept.includes('text/html');
}

export function renderHtml(err: SwitchyardError, requestId: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${err.status} ${escapeHtml(err.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}small{color:#777}</style>
</head><body><h1>${err.status} — ${escapeHtml(err.title)}</h1>
<p>${escapeHtml(err.detail)}</p>
<p><small>Switchyard · <code>${err.code}</code> · request <code>${escapeHtml(requestId)}</code></small></p>
</body></html>
`;
}

export function renderJson(err: SwitchyardError, requestId: string): string {
  return JSON.stringify({
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    detail: err.detail,
    code: err.code,
    requestId,
  });
}

/**
 * Answer with the error page, or — when the response has already started — cut the
 * connection, the only honest signal left (RFC 9112 §9.6: an incomplete message).
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  err: SwitchyardError,
): void {
  ctx.error = err.code;
  if (err.source === 'internal') ctx.onInternalError(err); // logged with its cause
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = wantsJson(req.headers.accept);
  const body = json ? renderJson(err, ctx.id) : renderHtml(err, ctx.id);
  for (const name of res.getHeaderNames()) {
    if (name !== 'x-request-id' && name !== 'connection' && name !== 'x-robots-tag') {
      res.removeHeader(name);
    }
  }
  res.statusCode = err.status;
  res.setHeader('x-request-id', ctx.id);
  res.setHeader(
    'content-type',
    json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
  );
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The error page on a raw socket (an `Upgrade` request that cannot be served), then close. */
export function writeErrorToSocket(
  socket: Duplex,
  ctx: RequestContext,
  err: SwitchyardError,
): void {
  ctx.error = err.code;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = renderJson(err, ctx.id);
  socket.end(
    `HTTP/1.1 ${err.status} ${err.title}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${ctx.id}\r\nConnection: close\r\n\r\n${body}`,
  );
}
