/**
 * Cache keys and the header facts they are made of. The primary key starts with the project
 * and the deployment id, so a promote or a rollback never serves another deployment's
 * objects and needs no purge; then the scheme and path-routing prefix the app sees, and the
 * path with query. `Vary` selects a variant by the request header values it names (RFC 9111
 * §4.1); nothing else of the request enters the key.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../request/request-context.js';
import { splitList } from './cache-control.js';

export interface Scope {
  readonly project: string;
  readonly deployment: string;
}

/** The host the app sees is in the key: a page built from it is never served to another host. */
export function primaryKey(scope: Scope, ctx: RequestContext): string {
  return `${scope.project}\0${scope.deployment}\0${ctx.proto}\0${ctx.authority}\0${ctx.prefix}\0${ctx.path}`;
}

/** Where the Vary names of a primary key are stored (kept across restarts with the entries). */
export const varyMarkerKey = (primary: string) => `${primary}\0vary`;

/** Where an encoded copy of a stored response is kept. */
export const encodedKey = (key: string, encoding: string) => `${key}\0enc=${encoding}`;

export function secondaryKey(
  primary: string,
  vary: readonly string[] | undefined,
  req: IncomingMessage,
): string {
  if (vary === undefined || vary.length === 0) return primary;
  let key = primary;
  for (const name of vary) {
    const v = req.headers[name];
    // §4.1: values compared after combining fields and normalising whitespace.
    key += `\0${name}=${(Array.isArray(v) ? v.join(', ') : (v ?? '')).replace(/\s+/g, ' ').trim()}`;
  }
  return key;
}

export function varyOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return splitList(Array.isArray(value) ? value.join(',') : value).map((v) => v.toLowerCase());
}

/** `Cache-Tag` / `Surrogate-Key` values, for purges by tag. */
export function tagsOf(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name of ['cache-tag', 'surrogate-key']) {
    const v = headers[name];
    if (v === undefined) continue;
    for (const part of (Array.isArray(v) ? v.join(',') : v).split(/[,\s]+/))
      if (part !== '') out.push(part);
  }
  return out;
}

export function compactHeaders(
  headers: Record<string, string | string[] | undefined>,
  without?: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== without) out[k] = v;
  return out;
}

export const one = (v: string | readonly string[] | undefined) =>
  typeof v === 'string' ? v : v?.[0];
