/**
 * Storage for the HTTP cache: one interface, two tiers (memory, disk), one contract suite
 * (test/cache/store-contract.ts). A store keeps opaque entries — response metadata plus body
 * bytes — under string keys; what may be stored and for how long (RFC 9111) is decided above
 * it. Stores are bounded in bytes and evict least recently used entries first.
 */

/** What the cache needs to answer from an entry without its body. */
export interface EntryMeta {
  readonly status: number;
  /** Response header fields as received (names lower case). */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** Epoch ms when the request was sent and the response received (RFC 9111 §4.2.3). */
  readonly requestTime: number;
  readonly responseTime: number;
  /** Purge handles: the project, the deployment, the URL and `Cache-Tag`/`Surrogate-Key` tags. */
  readonly project: string;
  readonly deployment: string;
  readonly url: string;
  readonly tags: readonly string[];
  /** Encoded copies stored next to this one (`br`, `gzip`), compressed once by the cache. */
  readonly encodings?: readonly string[];
  /** On a Vary marker entry: the request header names the URL's responses vary on. */
  readonly vary?: readonly string[];
  /** The targeted cache-control field (RFC 9213 `CDN-Cache-Control`) the cache obeys, if sent. */
  readonly control?: string | readonly string[];
}

export interface Entry {
  readonly meta: EntryMeta;
  readonly body: Buffer;
}

export type { PurgeSelector } from '../model/purge.js';
import type { PurgeSelector } from '../model/purge.js';

export interface CacheStore {
  /** The entry under `key`, or undefined. A hit makes it recently used. */
  get(key: string): Promise<Entry | undefined>;
  /** The same without waiting, for stores that can (memory): the request path's fast lane. */
  getSync?(key: string): Entry | undefined;
  /** Store (replacing) an entry; false when it is larger than the store may hold or the store failed. */
  set(key: string, entry: Entry): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Delete every entry matching all the given fields; resolves with how many. */
  purge(selector: PurgeSelector): Promise<number>;
  /** Bytes held (bodies and metadata, approximately). */
  readonly size: number;
  close(): Promise<void>;
}

export function matches(meta: EntryMeta, selector: PurgeSelector): boolean {
  if (selector.project !== undefined && meta.project !== selector.project) return false;
  if (selector.deployment !== undefined && meta.deployment !== selector.deployment) return false;
  if (selector.url !== undefined && meta.url !== selector.url) return false;
  if (selector.tag !== undefined && !meta.tags.includes(selector.tag)) return false;
  return true;
}

/** Approximate bytes of an entry: the body plus its serialized metadata. */
export function entryBytes(entry: Entry): number {
  return entry.body.length + JSON.stringify(entry.meta).length;
}
