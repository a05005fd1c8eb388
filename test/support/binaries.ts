/**
 * Tests that need an outside binary (chromium, redis-server, pebble …) ask here first. On a
 * laptop without it they are skipped with the reason; with SWITCHYARD_REQUIRE_BINARIES=1
 * (CI) a missing binary is a failure.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REQUIRE_BINARIES = process.env.SWITCHYARD_REQUIRE_BINARIES === '1';

export function findBinary(name: string): string | undefined {
  if (name.startsWith('/')) {
    try {
      accessSync(name, constants.X_OK);
      return name;
    } catch {
      return undefined;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `{ skip }` options for node:test: false when present; throws when missing and required. */
export function needsBinary(name: string): { skip: string | false } {
  if (findBinary(name) !== undefined) return { skip: false };
  const reason = `skipped: missing binary ${name}`;
  if (REQUIRE_BINARIES)
    throw new Error(`${reason} (SWITCHYARD_REQUIRE_BINARIES=1 makes this a failure)`);
  return { skip: reason };
}

/** `{ skip }` for a test that needs several binaries: the first missing one decides. */
export function needsBinaries(...names: string[]): { skip: string | false } {
  for (const name of names) {
    const result = needsBinary(name);
    if (result.skip !== false) return result;
  }
  return { skip: false };
}
