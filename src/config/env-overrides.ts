/**
 * Environment overrides, derived from the schema: every scalar option (and list of scalars)
 * outside `projects` has a variable `SWITCHYARD_<PATH>` — `upstream.connectTimeoutMs` is
 * `SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS`. Lists are comma-separated. `PORT` sets `listen.port`.
 */
import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './schema.js';

export interface EnvOption {
  /** Path in the configuration, e.g. `['upstream', 'connectTimeoutMs']`. */
  readonly path: readonly string[];
  readonly env: string;
  readonly schema: TSchema;
}

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function collect(schema: TSchema, path: string[], out: EnvOption[]): void {
  if (schema.type === 'object' && schema.properties) {
    for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      if (key === 'projects') continue;
      collect(child, [...path, key], out);
    }
    return;
  }
  if (schema.type === 'array' && (schema.items as TSchema).type === 'object') return;
  out.push({ path, env: `SWITCHYARD_${path.map(snake).join('_')}`, schema });
}

export const ENV_OPTIONS: readonly EnvOption[] = (() => {
  const out: EnvOption[] = [];
  collect(ConfigSchema, [], out);
  return out;
})();

/** Environment variables that also set an option, besides `SWITCHYARD_*`. */
export const ENV_ALIASES: Readonly<Record<string, string>> = { PORT: 'SWITCHYARD_LISTEN_PORT' };

function parseValue(raw: string, schema: TSchema): unknown {
  if (schema.type === 'integer' || schema.type === 'number') {
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  if (schema.type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (schema.type === 'array') {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => parseValue(s, schema.items as TSchema));
  }
  return raw;
}

/**
 * Write the overrides found in `env` into `target` (a parsed, not yet validated config).
 * Returns which variable set which path, so errors can name the variable.
 */
export function applyEnvOverrides(
  target: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Map<string, string> {
  const sources = new Map<string, string>();
  for (const option of ENV_OPTIONS) {
    let name = option.env;
    let raw = env[name];
    if (raw === undefined || raw === '') {
      const alias = Object.keys(ENV_ALIASES).find((a) => ENV_ALIASES[a] === option.env);
      if (alias !== undefined && env[alias] !== undefined && env[alias] !== '') {
        name = alias;
        raw = env[alias];
      }
    }
    if (raw === undefined || raw === '') continue; // an empty variable counts as unset
    let node = target;
    for (const key of option.path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[option.path[option.path.length - 1]!] = parseValue(raw, option.schema);
    sources.set(option.path.join('.'), name);
  }
  return sources;
}
