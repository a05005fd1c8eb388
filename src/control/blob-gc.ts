/**
 * Garbage collection of blobs, mark and sweep: a blob is kept while a deployment's manifest
 * names it (or it is a manifest of one), and for `graceMs` after it was stored whatever
 * names it (a deploy in progress has uploaded its blobs but not yet created the deployment).
 * The rest are deleted. One instance of a fleet collects at a time (store lock `blob-gc`).
 *
 * A deployment created while the sweep runs is marked again just before deleting, so a
 * redeploy that reuses an old, unreferenced blob keeps it; the window left is the time of
 * one delete call.
 */
import type { Logger } from 'pino';
import type { BlobStore } from '../storage/blob-store.js';
import { parseManifest } from '../storage/manifest.js';
import type { StateStore } from '../store/state-store.js';
import type { DeploymentRecord } from './records.js';

export interface GcResult {
  /** Blobs some deployment needs. */
  readonly referenced: number;
  /** Blobs deleted. */
  readonly deleted: number;
  /** Unreferenced blobs kept because they are younger than the grace period. */
  readonly young: number;
  /** Deployments whose manifest could not be read: nothing is deleted then. */
  readonly unreadable: number;
}

const LOCK_TTL_MS = 30 * 60_000;

export class BlobGc {
  readonly #store: StateStore;
  readonly #blobs: BlobStore;
  readonly #logger: Logger | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(store: StateStore, blobs: BlobStore, logger?: Logger) {
    this.#store = store;
    this.#blobs = blobs;
    this.#logger = logger;
  }

  /** Collect every `intervalMs` (0: never on a schedule). */
  schedule(intervalMs: number, graceMs: number): void {
    if (intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.collect(graceMs).then(
        (r) => r !== undefined && this.#logger?.info({ ...r }, 'blob garbage collection'),
        (err: unknown) => this.#logger?.warn({ err }, 'blob garbage collection failed'),
      );
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One collection; undefined when another instance holds the lock. */
  async collect(graceMs: number): Promise<GcResult | undefined> {
    const lock = await this.#store.lock('blob-gc', LOCK_TTL_MS);
    if (lock === undefined) return undefined;
    try {
      const first = await this.#mark();
      if (first.unreadable > 0) {
        // A manifest we cannot read might name any blob: delete nothing this time.
        return {
          referenced: first.hashes.size,
          deleted: 0,
          young: 0,
          unreadable: first.unreadable,
        };
      }
      const now = Date.now();
      const candidates: string[] = [];
      let young = 0;
      for await (const { hash, storedAt } of this.#blobs.list()) {
        if (first.hashes.has(hash)) continue;
        if (now - storedAt.getTime() < graceMs) young++;
        else candidates.push(hash);
      }
      const again = await this.#mark();
      if (again.unreadable > 0) {
        return { referenced: again.hashes.size, deleted: 0, young, unreadable: again.unreadable };
      }
      const doomed = candidates.filter((h) => !again.hashes.has(h));
      await this.#blobs.delete(doomed);
      return { referenced: again.hashes.size, deleted: doomed.length, young, unreadable: 0 };
    } finally {
      await lock.release();
    }
  }

  /** Every blob the deployments in the store need. */
  async #mark(): Promise<{ hashes: Set<string>; unreadable: number }> {
    const hashes = new Set<string>();
    let unreadable = 0;
    for (const r of await this.#store.list('deployment')) {
      const origin = (r.value as unknown as DeploymentRecord).origin;
      if (origin?.kind !== 'static' || origin.manifest === undefined) continue;
      hashes.add(origin.manifest);
      try {
        const manifest = parseManifest(await this.#blobs.read(origin.manifest));
        for (const entry of Object.values(manifest.files)) hashes.add(entry.hash);
      } catch (err) {
        unreadable++;
        this.#logger?.warn({ err, manifest: origin.manifest }, 'a manifest could not be read');
      }
    }
    return { hashes, unreadable };
  }
}
