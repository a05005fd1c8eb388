/**
 * Re-read the configuration file when it changes on disk or on SIGHUP. Editors replace files
 * by rename, so the directory is watched, not the file; bursts of events are coalesced.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export function watchConfigFile(file: string, onChange: () => void, debounceMs = 150): () => void {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const name = basename(file);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, changed) => {
      if (changed === null || changed === name) fire();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // no file watching here: SIGHUP still works
  }
  process.on('SIGHUP', fire);
  return () => {
    clearTimeout(timer);
    watcher?.close();
    process.off('SIGHUP', fire);
  };
}
