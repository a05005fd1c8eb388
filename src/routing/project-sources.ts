/**
 * Where the served projects come from: the configuration file and the state store. The file
 * is the operator's and wins a slug (and a custom domain) over the store; the store's
 * project with that slug is shadowed, with a warning.
 */
import type { ProjectSpec } from '../model/site.js';

export interface MergedProjects {
  /** Every project to serve, by slug. */
  readonly specs: ReadonlyMap<string, ProjectSpec>;
  /** Store projects hidden by a file project of the same slug. */
  readonly shadowed: ReadonlySet<string>;
}

export function mergeProjects(
  fromFile: readonly ProjectSpec[],
  fromStore: readonly ProjectSpec[],
): MergedProjects {
  const specs = new Map<string, ProjectSpec>();
  for (const p of fromFile) specs.set(p.slug, p);
  const shadowed = new Set<string>();
  const fileDomains = new Set(fromFile.flatMap((p) => p.domains));
  for (const p of fromStore) {
    if (specs.has(p.slug)) {
      shadowed.add(p.slug);
      continue;
    }
    // A domain claimed by the file stays with the file's project.
    const own = p.domains.filter((d) => !fileDomains.has(d));
    specs.set(p.slug, own.length === p.domains.length ? p : { ...p, domains: own });
  }
  return { specs, shadowed };
}
