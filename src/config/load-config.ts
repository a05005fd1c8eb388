/**
 * Load the configuration: an optional YAML file, then environment overrides, validated whole
 * against the schema (which also fills defaults), then checked across fields. Any problem is
 * a ConfigError naming the key, the value and what is expected; nothing half-valid escapes.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { demoProject } from '../model/demo.js';
import type { DeploymentSpec, ProjectSpec } from '../model/site.js';
import { TrustedPeers } from '../proxy/trusted-peers.js';
import { normalizeHost } from '../http/host.js';
import { AJV_CODE_OPTIONS } from './ajv-options.js';
import { ConfigError } from './config-error.js';
import { applyEnvOverrides } from './env-overrides.js';
import { ConfigSchema, type Config, type ProjectConfig } from './schema.js';

// verbose: errors carry their schema, for `patternHint` and the names an unknown key may mean.
const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: false,
  verbose: true,
  code: AJV_CODE_OPTIONS,
});
const validateSchema = ajv.compile<Config>(ConfigSchema);

export interface LoadedConfig {
  readonly config: Config;
  /** The projects the file declares (plus the demo when enabled), ready for the route table. */
  readonly projects: readonly ProjectSpec[];
  /** The file read, if any. */
  readonly file: string | undefined;
  /** `config.dataDir`, absolute. */
  readonly dataDir: string;
}

export interface LoadOptions {
  /** YAML file to read; none means defaults plus environment. */
  readonly file?: string | undefined;
  /** Environment to read overrides from (default: none). */
  readonly env?: NodeJS.ProcessEnv;
  /** Use this object instead of reading a file (tests, programmatic use). */
  readonly raw?: unknown;
}

/** Read, override, validate. Throws ConfigError. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const { file, env = {} } = options;
  let raw: unknown = options.raw ?? {};
  if (file !== undefined) raw = readYaml(file);
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(
      `config: the top level of ${file ?? 'the configuration'} must be a mapping`,
    );
  }
  const draft = structuredClone(raw) as Record<string, unknown>;
  if (file === undefined && options.raw === undefined && draft.demo === undefined)
    draft.demo = true;
  const envSources = applyEnvOverrides(draft, env);

  if (!validateSchema(draft)) {
    const problems = (validateSchema.errors ?? []).map((e) =>
      describeAjvError(e, draft, envSources),
    );
    throw configError(file, problems);
  }
  const config = draft;
  const baseDir = file === undefined ? process.cwd() : dirname(resolve(file));
  const problems: string[] = [];
  const projects = config.projects.map((p, i) =>
    toProjectSpec(p, `projects[${i}]`, baseDir, problems),
  );
  if (config.demo && !projects.some((p) => p.slug === 'hello')) projects.push(demoProject());
  checkAcrossProjects(config, projects, problems);
  if (problems.length > 0) throw configError(file, problems);
  // With its own DNS, the platform has a name for custom domains to CNAME to, answered by it.
  const firstDomain = config.platform.domains[0]?.toLowerCase().replace(/\.$/, '');
  if (config.dns.enabled && config.domains.cnameTarget === undefined && firstDomain) {
    config.domains.cnameTarget = `cname.${firstDomain}`;
  }
  return {
    config,
    projects,
    file: file === undefined ? undefined : resolve(file),
    dataDir: resolve(baseDir, config.dataDir),
  };
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = text.split('\n');
    throw configError(
      file,
      doc.errors.map((e) => {
        // "… at line 2, column 1:" and then the line itself, as it stands in the file.
        const first = (e.message.split('\n')[0] ?? e.message).replace(/:$/, '');
        const line = e.linePos?.[0].line;
        const shown = line === undefined ? undefined : lines[line - 1]?.trimEnd();
        return `not valid YAML: ${first}${shown === undefined ? '' : `: ${JSON.stringify(shown)}`}`;
      }),
    );
  }
  return doc.toJS() as unknown;
}

function configError(file: string | undefined, problems: string[]): ConfigError {
  const where = file === undefined ? 'configuration' : file;
  return new ConfigError(
    `invalid ${where}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    problems,
  );
}

/** `/projects/0/slug` → `projects[0].slug` */
function keyOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (acc, part) =>
        /^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`,
      '',
    );
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function describeAjvError(
  e: ErrorObject,
  root: unknown,
  envSources: ReadonlyMap<string, string>,
): string {
  let key = keyOf(e.instancePath);
  let expected: string;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      key = key === '' ? extra : `${key}.${extra}`;
      const known = Object.keys(
        (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {},
      );
      const near = nearest(extra, known);
      return `${key}: unknown option${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
    }
    case 'required':
      return `${key === '' ? '' : `${key}.`}${(e.params as { missingProperty: string }).missingProperty}: required`;
    case 'type':
      expected = `a value of type ${(e.params as { type: string }).type}`;
      break;
    case 'pattern': {
      const hint = (e.parentSchema as { patternHint?: string } | undefined)?.patternHint;
      expected = hint ?? `a value matching ${(e.params as { pattern: string }).pattern}`;
      break;
    }
    case 'const':
    case 'enum':
      expected = `one of ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues ?? e.params)}`;
      break;
    default:
      expected = e.message ?? e.keyword;
  }
  const fromEnv = envSources.get(key);
  const name = fromEnv === undefined ? key : `${key} (from ${fromEnv})`;
  return `${name}: got ${JSON.stringify(valueAt(root, e.instancePath))}, expected ${expected}`;
}

function toProjectSpec(
  p: ProjectConfig,
  key: string,
  baseDir: string,
  problems: string[],
): ProjectSpec {
  const ids = new Set<string>();
  const deployments: DeploymentSpec[] = [];
  p.deployments.forEach((d, i) => {
    const dkey = `${key}.deployments[${i}]`;
    if (ids.has(d.id))
      problems.push(`${dkey}.id: got "${d.id}", expected an id not used before in this project`);
    ids.add(d.id);
    if ((d.static === undefined) === (d.upstream === undefined)) {
      problems.push(`${dkey}: expected exactly one of "static" or "upstream"`);
      return;
    }
    if (d.static !== undefined) {
      const dir = resolve(baseDir, d.static.dir);
      const kind = statSync(dir, { throwIfNoEntry: false });
      if (kind === undefined) problems.push(`${dkey}.static.dir: ${dir} does not exist`);
      else if (!kind.isDirectory()) problems.push(`${dkey}.static.dir: ${dir} is not a directory`);
    }
    const origin = d.static
      ? {
          kind: 'static' as const,
          dir: resolve(baseDir, d.static.dir),
          spa: d.static.spa,
          cleanUrls: d.static.cleanUrls,
          immutable: false,
        }
      : {
          kind: 'upstream' as const,
          replicas: d.upstream!.replicas,
          ...(d.upstream!.weights === undefined ? {} : { weights: d.upstream!.weights }),
          ...(d.upstream!.healthCheckPath === undefined
            ? {}
            : { healthCheckPath: d.upstream!.healthCheckPath }),
          ...(d.upstream!.balancing === undefined ? {} : { balancing: d.upstream!.balancing }),
        };
    if (
      d.upstream?.weights !== undefined &&
      d.upstream.weights.length !== d.upstream.replicas.length
    ) {
      problems.push(
        `${dkey}.upstream.weights: got ${d.upstream.weights.length} weights, expected one per replica (${d.upstream.replicas.length})`,
      );
    }
    deployments.push({ id: d.id, status: d.status, origin });
  });
  const known = () => (ids.size === 0 ? 'none declared' : [...ids].join(', '));
  const production = p.production ?? p.deployments.at(-1)?.id;
  if (p.production !== undefined && !ids.has(p.production)) {
    problems.push(
      `${key}.production: got "${p.production}", expected one of this project's deployment ids (${known()})`,
    );
  }
  for (const [alias, target] of Object.entries(p.aliases)) {
    if (!ids.has(target)) {
      problems.push(
        `${key}.aliases.${alias}: got "${target}", expected one of this project's deployment ids (${known()})`,
      );
    }
  }
  return {
    slug: p.slug,
    production,
    aliases: p.aliases,
    domains: p.domains.map(normalizeHost),
    rootPaths: p.rootPaths,
    httpsRedirect: p.httpsRedirect,
    publicBuildLogs: p.publicBuildLogs,
    ...(p.maxBodyBytes === undefined ? {} : { maxBodyBytes: p.maxBodyBytes }),
    ...(p.rateLimit === undefined ? {} : { rateLimit: p.rateLimit }),
    deployments,
  };
}

function checkAcrossProjects(config: Config, projects: ProjectSpec[], problems: string[]): void {
  const { headersTimeoutMs, requestTimeoutMs } = config.limits;
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    problems.push(
      `limits.headersTimeoutMs: got ${headersTimeoutMs}, expected at most limits.requestTimeoutMs (${requestTimeoutMs})`,
    );
  }
  config.proxy.trustedProxies.forEach((entry, i) => {
    try {
      new TrustedPeers([entry]);
    } catch {
      problems.push(
        `proxy.trustedProxies[${i}]: got "${entry}", expected an IP address or CIDR block`,
      );
    }
  });
  checkDns(config, problems);
  const slugs = new Map<string, number>();
  const domains = new Map<string, string>();
  const platformHosts = new Set(config.platform.hosts.map(normalizeHost));
  const platformDomains = config.platform.domains.map(normalizeHost);
  projects.forEach((p, i) => {
    if (slugs.has(p.slug))
      problems.push(
        `projects[${i}].slug: got "${p.slug}", expected a slug not used by projects[${slugs.get(p.slug)}]`,
      );
    slugs.set(p.slug, i);
    p.domains.forEach((d, j) => {
      const key = `projects[${i}].domains[${j}]`;
      const owner = domains.get(d);
      if (owner !== undefined)
        problems.push(
          `${key}: got "${d}", expected a domain not already attached to project "${owner}"`,
        );
      if (platformHosts.has(d) || platformDomains.some((pd) => d === pd || d.endsWith(`.${pd}`))) {
        problems.push(`${key}: got "${d}", expected a host outside the platform hosts and domains`);
      }
      domains.set(d, p.slug);
    });
  });
}

/** The known name closest to a mistyped one (at most a third of its letters off), if any. */
function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The DNS server announces addresses and needs zones; wildcard certificates need both. */
function checkDns(config: Config, problems: string[]): void {
  if (config.storage.kind === 's3' && config.storage.bucket === '') {
    problems.push('storage.bucket: needed with storage.kind: s3 (the bucket build output goes in)');
  }
  config.dns.addresses.forEach((a, i) => {
    if (isIP(a) === 0)
      problems.push(`dns.addresses[${i}]: got "${a}", expected an IPv4 or IPv6 address`);
  });
  if (config.https.wildcard && config.https.issuer !== 'acme') {
    problems.push(
      'https.wildcard: needs https.issuer: acme (the local CA issues any name at once; it needs no wildcard)',
    );
  }
  if (config.https.wildcard && !config.dns.enabled) {
    problems.push(
      'https.wildcard: needs dns.enabled: true (wildcard certificates are proved by DNS-01 through Switchyard’s own DNS server; see docs/dns.md)',
    );
  }
}
