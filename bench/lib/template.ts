/** Peer configurations in bench/peers/ are templates: `{{name}}` placeholders filled per run. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEERS = fileURLToPath(new URL('../peers/', import.meta.url));

/** Fill bench/peers/`name` with `values` into a new file under `work`; its path. */
export function template(
  work: string,
  name: string,
  values: Record<string, string | number>,
): string {
  let text = readFileSync(join(PEERS, name), 'utf8');
  for (const [k, v] of Object.entries(values)) text = text.replaceAll(`{{${k}}}`, String(v));
  const out = join(work, `${name}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(out, text);
  return out;
}
