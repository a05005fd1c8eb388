/** Fresh Node processes that print V8's own diagnostics (traces, `%DebugPrint`). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Run `code` (an ES module, from the repository's root) in a new process with `flags`, and
 * return what it printed. Stdout goes to a file: V8 prints through C stdio, which loses what a
 * non-blocking pipe does not take at once.
 */
export async function runProbe(flags: readonly string[], code: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-probe-'));
  const file = join(dir, 'stdout');
  const fd = openSync(file, 'w');
  try {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', code], {
      cwd: new URL('../..', import.meta.url).pathname,
      stdio: ['ignore', fd, 'inherit'],
    });
    const [status] = (await once(child, 'exit')) as [number | null];
    assert.equal(status, 0, 'the probe process failed');
    return readFileSync(file, 'utf8');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}
