/** A sealing key file for a test fleet: every instance of a fleet is handed the same one. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function sharedKeyFile(): string {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'sy-key-')), 'secret.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  return keyFile;
}
