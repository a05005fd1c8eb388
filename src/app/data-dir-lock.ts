/**
 * One instance per embedded data directory: two processes writing one SQLite store and one
 * upload tree would corrupt neither file but confuse everything else (uploads swept under a
 * running deploy, two admin tokens). `switchyard.pid` in the data directory says who has it;
 * a second instance is refused with what to do instead, and a file left by a process that is
 * gone (killed, crashed) is taken over. A fleet shares state through Redis instead.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load-config.js';

export function claimDataDir(loaded: LoadedConfig): void {
  if (loaded.config.store !== 'embedded') return;
  const dir = loaded.dataDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'switchyard.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      process.once('exit', () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new ConfigError(
        `the data directory ${dir} is in use by another Switchyard (pid ${holder}): give each instance its own dataDir, or share state between instances with a Redis store`,
      );
    }
    unlinkSync(file); // left by a process that is gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
