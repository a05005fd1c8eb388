/**
 * The protection gate of a project's hosts (control/protection.ts sets it up): a preview
 * host of a protected project — every host with `scope: all` — lets a request in only with
 * the bypass secret (`X-Switchyard-Bypass`), a valid access cookie for this very host, or a
 * share link (which sets the cookie and redirects to the clean URL). Anyone else gets a 401
 * with a small login form (JSON for API clients); `POST /_switchyard/login` checks the
 * password and sets the cookie: signed, host-scoped, HttpOnly, Secure over HTTPS, 12 hours.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Protection } from '../model/records.js';
import { SwitchyardError } from '../model/errors.js';
import { escapeHtml, sendError, wantsJson } from '../request/error-renderer.js';
import type { RequestContext } from '../request/request-context.js';
import { bodyOf } from '../http/request-body.js';
import { signToken, verifyPassword, verifyToken } from '../secrets/password.js';

export const LOGIN_PATH = '/_switchyard/login';
const COOKIE = 'sy_access';
const SHARE_PARAM = '_switchyard_share';
const COOKIE_SECONDS = 12 * 3600;
const MAX_LOGIN_BODY = 4096;

export type Access = 'in' | 'answered';

/** The signing key (from the store, through the mirror); undefined until one exists. */
export type SigningKey = () => Buffer | undefined;

export function previewAccess(
  req: IncomingMessage,
  res: ServerResponse | undefined,
  ctx: RequestContext,
  slug: string,
  protection: Protection,
  key: SigningKey,
): Access {
  const bypass = req.headers['x-switchyard-bypass'];
  if (typeof bypass === 'string' && sameDigest(bypass, protection.bypassDigest)) return 'in';
  const signing = key();
  const cookie = signing === undefined ? undefined : cookieValue(req.headers.cookie, COOKIE);
  if (cookie !== undefined && verifyToken(signing!, ['cookie', slug, ctx.authority], cookie)) {
    return 'in';
  }
  if (res === undefined) {
    throw new SwitchyardError('SY_PROTECTED', 'this preview asks for a password');
  }
  const share = shareToken(ctx.path);
  if (signing !== undefined && share !== undefined) {
    const dot = share.token.indexOf('.');
    const deployment = share.token.slice(0, dot);
    const ok =
      (deployment === '' || deployment === ctx.deployment) &&
      verifyToken(signing, ['share', slug, deployment], share.token.slice(dot + 1));
    if (ok) {
      setCookie(res, ctx, slug, signing);
      res.writeHead(303, { location: `${ctx.prefix}${share.clean}`, 'content-length': 0 });
      res.end();
      return 'answered';
    }
  }
  if (ctx.path.startsWith(LOGIN_PATH) && req.method === 'POST') {
    login(req, res, ctx, slug, protection, key);
    return 'answered';
  }
  askForPassword(req, res, ctx, false);
  return 'answered';
}

function login(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  slug: string,
  protection: Protection,
  key: SigningKey,
): void {
  let body = '';
  const input = bodyOf(req);
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    body += chunk;
    if (body.length > MAX_LOGIN_BODY) input.destroy();
  });
  input.on('end', () => {
    const form = new URLSearchParams(body);
    const password = form.get('password') ?? '';
    const next = safeNext(form.get('next'));
    verifyPassword(password, protection.passwordDigest).then(
      (ok) => {
        const signing = key();
        if (!ok || signing === undefined) {
          askForPassword(req, res, ctx, true);
          return;
        }
        setCookie(res, ctx, slug, signing);
        res.writeHead(303, { location: `${ctx.prefix}${next}`, 'content-length': 0 });
        res.end();
      },
      (err: unknown) =>
        sendError(
          req,
          res,
          ctx,
          new SwitchyardError('SY_INTERNAL', 'login failed', { cause: err }),
        ),
    );
  });
}

function askForPassword(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  wrong: boolean,
): void {
  if (wantsJson(req.headers.accept) || req.method === 'HEAD') {
    sendError(
      req,
      res,
      ctx,
      new SwitchyardError(
        'SY_PROTECTED',
        'this preview asks for a password (or the bypass header)',
      ),
    );
    return;
  }
  ctx.error = 'SY_PROTECTED';
  const next = ctx.path.startsWith(LOGIN_PATH) ? '/' : ctx.path;
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>Protected preview</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:24rem;margin:5rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0}</style>
</head><body><h1>Protected preview</h1>${wrong ? '<p role="alert">That password is not right.</p>' : ''}
<form method="post" action="${escapeHtml(`${ctx.prefix}${LOGIN_PATH}`)}">
<label>Password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<input type="hidden" name="next" value="${escapeHtml(next)}"><button>Continue</button></form>
</body></html>
`;
  res.writeHead(401, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-robots-tag': 'noindex',
    'x-request-id': ctx.id,
  });
  res.end(body);
}

function setCookie(res: ServerResponse, ctx: RequestContext, slug: string, key: Buffer): void {
  const expiresAt = Date.now() + COOKIE_SECONDS * 1000;
  const token = signToken(key, ['cookie', slug, ctx.authority], expiresAt);
  // No Domain attribute: the cookie belongs to this host alone (RFC 6265 §5.3).
  const secure = ctx.proto === 'https' ? '; Secure' : '';
  res.setHeader(
    'set-cookie',
    `${COOKIE}=${token}; Path=/; Max-Age=${COOKIE_SECONDS}; HttpOnly; SameSite=Lax${secure}`,
  );
}

function shareToken(path: string): { token: string; clean: string } | undefined {
  const q = path.indexOf('?');
  if (q === -1 || !path.includes(SHARE_PARAM)) return undefined;
  const params = new URLSearchParams(path.slice(q + 1));
  const token = params.get(SHARE_PARAM);
  if (token === null) return undefined;
  params.delete(SHARE_PARAM);
  const rest = params.toString();
  return { token, clean: `${path.slice(0, q)}${rest === '' ? '' : `?${rest}`}` };
}

/** Only a path on this host: never an absolute or protocol-relative URL. */
function safeNext(next: string | null): string {
  return next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function sameDigest(secret: string, digestHex: string): boolean {
  const given = createHash('sha256').update(secret).digest();
  const expected = Buffer.from(digestHex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
