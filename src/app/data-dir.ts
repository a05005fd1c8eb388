/**
 * The data directory holds secrets (the embedded store with certificate keys, the admin
 * token, the local CA's key): it is created 0700 and its secret files are 0600. An existing
 * install with looser modes is fixed at start, with a warning naming what was changed.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';

/** Files in the data directory only the owner may read. */
export const SECRET_FILES = [
  'state.db',
  'state.db-wal',
  'state.db-shm',
  'admin-token',
  'ca-key.pem',
] as const;

export function secureDataDir(dir: string, logger: Logger): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fixed: string[] = [];
  tighten(dir, 0o700, fixed);
  for (const name of SECRET_FILES) tighten(join(dir, name), 0o600, fixed);
  if (fixed.length > 0) {
    logger.warn({ fixed }, 'the data directory was readable by others: its modes were tightened');
  }
}

function tighten(path: string, mode: number, fixed: string[]): void {
  let current: number;
  try {
    current = statSync(path).mode & 0o777;
  } catch {
    return; // not there (yet)
  }
  if ((current & ~mode) === 0) return;
  chmodSync(path, mode);
  fixed.push(`${path} ${current.toString(8)} → ${mode.toString(8)}`);
}
