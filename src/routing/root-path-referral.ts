/**
 * Root-path referral: apps built for the site root request `/assets/app.js` absolutely even
 * when served at `/<slug>/`. A project may opt in with `rootPaths` (e.g. `['/assets/']`);
 * then a request on a platform host whose first segment names no project, for one of those
 * prefixes, goes to the project whose page asked for it: named by the Referer
 * (`/<slug>/…` on the same host), else by the `sy-project` cookie set on the project's HTML
 * (which also covers modules imported by other modules, whose Referer is an asset).
 * A project's own path is never shadowed: referral only applies to unknown first segments.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { normalizeHost } from '../http/host.js';
import type { RouteTable, RoutedProject } from './route-table.js';

export const PROJECT_COOKIE = 'sy-project';

export function projectCookie(slug: string): string {
  return `${PROJECT_COOKIE}=${slug}; Path=/; SameSite=Lax; HttpOnly`;
}

function claims(project: RoutedProject | undefined, path: string): project is RoutedProject {
  if (project === undefined) return false;
  for (const prefix of project.rootPaths) if (path.startsWith(prefix)) return true;
  return false;
}

function slugFromReferer(referer: string, host: string): string | undefined {
  let url: URL;
  try {
    url = new URL(referer);
  } catch {
    return undefined;
  }
  if (normalizeHost(url.host) !== host) return undefined;
  const end = url.pathname.indexOf('/', 1);
  return end === -1 ? undefined : url.pathname.slice(1, end);
}

function slugFromCookie(cookie: string): string | undefined {
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === PROJECT_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The opted-in project this root-path request belongs to, if any. */
export function referredProject(
  table: RouteTable,
  headers: IncomingHttpHeaders,
  host: string,
  path: string,
): RoutedProject | undefined {
  if (headers.referer !== undefined) {
    const slug = slugFromReferer(headers.referer, host);
    const project = slug === undefined ? undefined : table.project(slug);
    if (claims(project, path)) return project;
  }
  if (headers.cookie !== undefined) {
    const slug = slugFromCookie(headers.cookie);
    const project = slug === undefined ? undefined : table.project(slug);
    if (claims(project, path)) return project;
  }
  return undefined;
}
