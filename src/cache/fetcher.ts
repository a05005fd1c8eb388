/** What the HTTP cache is configured with, and what it needs of an origin. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { RequestContext } from '../request/request-context.js';
import type { ResponseTee } from '../upstream/proxy-exchange.js';
import type { StorabilitySettings } from './storability.js';

export interface CacheSettings extends StorabilitySettings {
  /** Longest wait for another request's miss on the same key before going to the origin. */
  readonly lockTimeoutMs: number;
  readonly via: string;
  /** Variants stored per primary key; one more drops the least recently stored (default 32). */
  readonly maxVariantsPerUrl?: number;
}

export type Headers = Record<string, string | string[] | undefined>;
export interface Fetched {
  statusCode: number;
  headers: Headers;
  body: Readable;
}

/** What the cache needs of an origin: proxy a request (showing it the response), or make one it reads itself. */
export interface Fetcher {
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, tee?: ResponseTee): void;
  fetch(
    req: IncomingMessage,
    ctx: RequestContext,
    extraHeaders?: Record<string, string>,
  ): Promise<Fetched>;
}
