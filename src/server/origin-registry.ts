/**
 * Origins outlive route tables: a deployment keeps its origin (and its upstream connection
 * pools) across recompiles as long as its spec is unchanged. After a swap, origins no table
 * refers to any more are closed — gracefully, so their in-flight requests finish.
 */
import type { ProjectSpec } from '../model/site.js';
import { originKey } from '../model/site.js';
import { StaticOrigin } from '../static/static-origin.js';
import type { UpstreamSettings } from '../upstream/replica-set.js';
import { UpstreamOrigin } from '../upstream/upstream-origin.js';
import type { Origin } from '../origin/origin.js';
import type { ForwardingOptions } from '../proxy/forwarded-headers.js';
import { CachingOrigin } from '../cache/caching-origin.js';
import type { HttpCache } from '../cache/http-cache.js';
import type { BlobFiles } from '../storage/blob-files.js';
import type { Config } from '../config/schema.js';
import type { AddressPolicy } from '../net/address-policy.js';
import type { Logger } from '../observability/logger.js';

/** The upstream origin inside an origin (itself, or behind the cache), if any. */
export function upstreamOf(origin: Origin | undefined): UpstreamOrigin | undefined {
  if (origin instanceof UpstreamOrigin) return origin;
  if (origin instanceof CachingOrigin) return origin.inner;
  return undefined;
}

export interface OriginSettings {
  readonly upstream: UpstreamSettings;
  readonly via: string;
  /** How requests are forwarded to replicas (identity headers, underscores). */
  readonly forwarding?: ForwardingOptions;
  /** The HTTP cache upstream deployments are served through, if enabled. */
  readonly cache?: HttpCache;
  /** Blobs of static deployments kept in blob storage (manifests). */
  readonly blobs?: BlobFiles;
}

/** The settings origins are made with, from the configuration. */
export function originSettings(
  config: Config,
  parts: { addressPolicy: AddressPolicy; logger: Logger; cache?: HttpCache; blobs: BlobFiles },
): OriginSettings {
  return {
    upstream: {
      ...config.upstream,
      addressPolicy: parts.addressPolicy,
      bodyIdleTimeoutMs: config.limits.bodyIdleTimeoutMs,
      tunnelIdleTimeoutMs: config.limits.tunnelIdleTimeoutMs,
      ...(config.log.access ? { accessLog: parts.logger } : {}),
    },
    forwarding: {
      via: config.proxy.via,
      untrustedIdentity: new Set(config.proxy.clientIdentityHeaders.map((h) => h.toLowerCase())),
      allowUnderscores: config.proxy.allowUnderscoreHeaders,
    },
    via: config.proxy.via,
    ...(parts.cache === undefined ? {} : { cache: parts.cache }),
    blobs: parts.blobs,
  };
}

export class OriginRegistry {
  #settings: OriginSettings;
  #live = new Map<string, Origin>();
  #next = new Map<string, Origin>();

  constructor(settings: OriginSettings) {
    this.#settings = settings;
  }

  /** The origin for a project's deployment: reused when unchanged, else created. */
  originFor = (project: ProjectSpec, index: number): Origin => {
    const deployment = project.deployments[index]!;
    const key = originKey(project.slug, deployment);
    let origin = this.#next.get(key) ?? this.#live.get(key);
    if (origin === undefined) {
      const spec = deployment.origin;
      if (spec.kind === 'static') origin = new StaticOrigin(spec, this.#settings.blobs);
      else {
        const upstream = new UpstreamOrigin(
          spec,
          this.#settings.upstream,
          this.#settings.forwarding ?? this.#settings.via,
        );
        const cache = this.#settings.cache;
        origin =
          cache === undefined
            ? upstream
            : new CachingOrigin(upstream, cache, {
                project: project.slug,
                deployment: deployment.id,
              });
      }
    }
    this.#next.set(key, origin);
    return origin;
  };

  /** Call after the table built with originFor is in service: closes the origins it dropped. */
  commit(): Promise<void> {
    const retired = [...this.#live].filter(([key]) => !this.#next.has(key)).map(([, o]) => o);
    this.#live = this.#next;
    this.#next = new Map();
    return Promise.all(retired.map((o) => o.close())).then(() => undefined);
  }

  /** Every live upstream origin with the project and deployment it serves. */
  *upstreams(): Generator<{ project: string; deployment: string; origin: UpstreamOrigin }> {
    for (const [key, live] of this.#live) {
      const origin = upstreamOf(live);
      if (origin === undefined) continue;
      const [project = '', deployment = ''] = key.split('/', 2);
      yield { project, deployment, origin };
    }
  }

  async closeAll(): Promise<void> {
    const all = [...this.#live.values()];
    this.#live = new Map();
    await Promise.all(all.map((o) => o.close()));
  }
}
