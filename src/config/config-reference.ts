/**
 * The configuration reference (docs/configuration.md), rendered from the schema so the docs
 * and the validator cannot disagree. `npm run docs:config` writes it; a test checks it is current.
 */
import type { TSchema } from '@sinclair/typebox';
import { ENV_ALIASES, ENV_OPTIONS } from './env-overrides.js';
import { ConfigSchema } from './schema.js';

function typeOf(schema: TSchema): string {
  if (schema.anyOf)
    return (schema.anyOf as TSchema[]).map((s) => JSON.stringify(s.const)).join(' \\| ');
  if (schema.type === 'array') return `list of ${typeOf(schema.items as TSchema)}`;
  if (schema.type === 'object' && schema.patternProperties) return 'map';
  return String(schema.type);
}

function row(path: string, schema: TSchema, rows: string[]): void {
  const env = ENV_OPTIONS.find((o) => o.path.join('.') === path)?.env;
  const alias = Object.keys(ENV_ALIASES).find((a) => ENV_ALIASES[a] === env);
  const envText =
    env === undefined ? '' : `\`${env}\`${alias === undefined ? '' : ` or \`${alias}\``}`;
  const def = schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``;
  const description = String(schema.description ?? '').replace(/\|/g, '\\|');
  rows.push(`| \`${path}\` | ${typeOf(schema)} | ${def} | ${envText} | ${description} |`);
}

function walk(schema: TSchema, prefix: string, rows: string[]): void {
  for (const [key, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (child.type === 'object' && child.properties) walk(child, path, rows);
    else if (child.type === 'array' && (child.items as TSchema).type === 'object') {
      row(path, child, rows);
      walk(child.items as TSchema, `${path}[]`, rows);
    } else row(path, child, rows);
  }
}

export function renderConfigReference(): string {
  const rows: string[] = [];
  walk(ConfigSchema, '', rows);
  return `# Configuration reference

<!-- Generated from src/config/schema.ts by \`npm run docs:config\`; do not edit by hand. -->

Switchyard reads one optional YAML file (\`switchyard start --config switchyard.yaml\`, or
\`SWITCHYARD_CONFIG\`), then environment variables, and validates the result whole. An invalid
file or value stops start-up with exit code 2 and a message naming the key, the value and
what was expected. While running, the file is re-read on change and on \`SIGHUP\`: a valid
edit replaces the route table at once; an invalid one is refused with a logged reason and
the running table stays. \`listen\`, \`limits\` and \`upstream\` changes take effect at restart.

Units are in the names: \`…Ms\` milliseconds, \`…Bytes\` bytes. Lists in environment variables
are comma-separated.

| Option | Type | Default | Environment | Meaning |
| --- | --- | --- | --- | --- |
${rows.join('\n')}

## Example

\`\`\`yaml
listen:
  port: 8080
platform:
  hosts: [platform.example.com] # /<slug>/… path routing
  domains: [apps.example.com] # <slug>.apps.example.com, <id>--<slug>.apps.example.com
proxy:
  trustedProxies: [10.0.0.0/8] # your L4/L7 load balancer
projects:
  - slug: usera
    production: v2
    aliases: { staging: v1 } # staging--usera.apps.example.com
    domains: [www.usera.com]
    deployments:
      - id: v1
        static: { dir: /srv/builds/usera/v1, spa: true }
      - id: v2
        upstream: { replicas: ['http://10.0.3.7:3000', 'http://10.0.3.8:3000'] }
\`\`\`
`;
}
