import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { ENV_OPTIONS } from '../../src/config/env-overrides.js';
import { loadConfig } from '../../src/config/load-config.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sy-config-')), 'switchyard.yaml');
  writeFileSync(file, text);
  return file;
}

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('with nothing at all: defaults, port 8080 and the demo project', () => {
    const { config, projects } = loadConfig();
    assert.equal(config.listen.port, 8080);
    assert.equal(config.upstream.connectTimeoutMs, 5000);
    assert.deepEqual(
      projects.map((p) => p.slug),
      ['hello'],
    );
  });

  it('PORT and SWITCHYARD_* override the file', () => {
    const file = yamlFile('listen:\n  port: 9000\nupstream:\n  connectTimeoutMs: 100\n');
    const { config } = loadConfig({
      file,
      env: {
        PORT: '7000',
        SWITCHYARD_UPSTREAM_HEADERS_TIMEOUT_MS: '1234',
        SWITCHYARD_PLATFORM_DOMAINS: 'a.test, b.test',
      },
    });
    assert.equal(config.listen.port, 7000);
    assert.equal(config.upstream.connectTimeoutMs, 100);
    assert.equal(config.upstream.headersTimeoutMs, 1234);
    assert.deepEqual(config.platform.domains, ['a.test', 'b.test']);
    assert.equal(
      loadConfig({ file, env: { PORT: '1', SWITCHYARD_LISTEN_PORT: '2' } }).config.listen.port,
      2,
    );
    assert.equal(
      loadConfig({ file, env: { PORT: '' } }).config.listen.port,
      9000,
      'empty counts as unset',
    );
  });

  it('names every environment variable after its option', () => {
    const names = ENV_OPTIONS.map((o) => o.env);
    assert.ok(names.includes('SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS'));
    assert.ok(names.includes('SWITCHYARD_PROXY_TRUSTED_PROXIES'));
    assert.ok(!names.some((n) => n.startsWith('SWITCHYARD_PROJECTS')));
  });

  it('declares projects, resolving static directories against the file', () => {
    const file = yamlFile(
      'projects:\n  - slug: usera\n    production: v1\n    domains: [WWW.UserA.com.]\n    deployments:\n' +
        '      - id: v1\n        static: { dir: ./build }\n      - id: v2\n        upstream: { replicas: ["http://127.0.0.1:3000"] }\n',
    );
    mkdirSync(join(dirname(file), 'build'));
    const { projects } = loadConfig({ file });
    const [p] = projects;
    assert.equal(p?.production, 'v1');
    assert.deepEqual(p?.domains, ['www.usera.com']);
    assert.equal(p?.deployments[0]?.origin.kind, 'static');
    assert.equal(
      p?.deployments[0]?.origin.kind === 'static' && p.deployments[0].origin.dir,
      join(file, '..', 'build'),
    );
    assert.equal(p?.deployments[0]?.status, 'ready');
  });

  it('production defaults to the last deployment listed', () => {
    const { projects } = loadConfig({
      raw: {
        projects: [
          {
            slug: 'a',
            deployments: [
              { id: 'x', static: { dir: '.' } },
              { id: 'y', static: { dir: '.' } },
            ],
          },
        ],
      },
    });
    assert.equal(projects[0]?.production, 'y');
  });

  it('names the key, the value and what is expected', () => {
    const found = problems(() => loadConfig({ file: yamlFile('listen:\n  port: "eighty"\n') }));
    assert.deepEqual(found, ['listen.port: got "eighty", expected a value of type integer']);
    const env = problems(() => loadConfig({ env: { PORT: 'abc' } }));
    assert.deepEqual(env, ['listen.port (from PORT): got "abc", expected a value of type integer']);
    const range = problems(() => loadConfig({ raw: { listen: { port: 70000 } } }));
    assert.match(range[0]!, /^listen\.port: got 70000, expected must be <= 65535$/);
    const unknown = problems(() => loadConfig({ raw: { upstream: { connectTimeout: 5 } } }));
    assert.deepEqual(unknown, [
      'upstream.connectTimeout: unknown option (did you mean "connectTimeoutMs"?)',
    ]);
  });

  it('refuses bad projects with the path of the offending key', () => {
    const bad = problems(() =>
      loadConfig({
        raw: {
          projects: [
            { slug: 'Bad--Slug' },
            {
              slug: 'ok',
              production: 'nope',
              deployments: [
                { id: 'd1', static: { dir: '.' }, upstream: { replicas: ['http://a:1'] } },
              ],
            },
          ],
        },
      }),
    );
    assert.ok(
      bad.some((p) =>
        p.startsWith('projects[0].slug: got "Bad--Slug", expected lower-case letters, digits'),
      ),
      bad.join('\n'),
    );
    const semantic = problems(() =>
      loadConfig({
        raw: {
          projects: [
            {
              slug: 'ok',
              production: 'nope',
              aliases: { staging: 'gone' },
              deployments: [
                { id: 'd1', static: { dir: '.' }, upstream: { replicas: ['http://a:1'] } },
              ],
            },
            { slug: 'ok', domains: ['localhost', 'x.localhost', 'www.a.com'] },
            { slug: 'other', domains: ['WWW.A.COM'] },
          ],
        },
      }),
    );
    const expected = [
      'projects[0].deployments[0]: expected exactly one of "static" or "upstream"',
      'projects[0].production: got "nope", expected one of this project\'s deployment ids (d1)',
      'projects[0].aliases.staging: got "gone", expected one of this project\'s deployment ids (d1)',
      'projects[1].slug: got "ok", expected a slug not used by projects[0]',
      'projects[1].domains[0]: got "localhost", expected a host outside the platform hosts and domains',
      'projects[1].domains[1]: got "x.localhost", expected a host outside the platform hosts and domains',
      'projects[2].domains[0]: got "www.a.com", expected a domain not already attached to project "ok"',
    ];
    assert.deepEqual(semantic, expected);
  });

  it('refuses YAML that does not parse, or duplicate keys', () => {
    assert.match(
      problems(() => loadConfig({ file: yamlFile('listen: [unclosed\n') }))[0]!,
      /^not valid YAML/,
    );
    assert.match(
      problems(() => loadConfig({ file: yamlFile('demo: true\ndemo: false\n') }))[0]!,
      /^not valid YAML/,
    );
    assert.throws(() => loadConfig({ file: '/nonexistent/switchyard.yaml' }), /cannot read/);
  });

  it('refuses trusted proxies that are not addresses or CIDR blocks', () => {
    const found = problems(() =>
      loadConfig({
        raw: { proxy: { trustedProxies: ['10.0.0.0/8', 'fd00::/8', 'not-an-ip', '1.2.3.4/40'] } },
      }),
    );
    assert.deepEqual(found, [
      'proxy.trustedProxies[2]: got "not-an-ip", expected an IP address or CIDR block',
      'proxy.trustedProxies[3]: got "1.2.3.4/40", expected an IP address or CIDR block',
    ]);
  });

  it('checks the DNS settings, and what wildcard certificates need', () => {
    const found = problems(() =>
      loadConfig({
        raw: { dns: { addresses: ['192.0.2.1', 'example.com'] }, https: { wildcard: true } },
      }),
    );
    assert.deepEqual(found, [
      'dns.addresses[1]: got "example.com", expected an IPv4 or IPv6 address',
      'https.wildcard: needs https.issuer: acme (the local CA issues any name at once; it needs no wildcard)',
      'https.wildcard: needs dns.enabled: true (wildcard certificates are proved by DNS-01 through Switchyard’s own DNS server; see docs/dns.md)',
    ]);
    const withDns = loadConfig({
      raw: { dns: { enabled: true }, platform: { domains: ['Apps.Example.com'] } },
    });
    assert.equal(withDns.config.domains.cnameTarget, 'cname.apps.example.com');
    const own = loadConfig({
      raw: { dns: { enabled: true }, domains: { cnameTarget: 'edge.example.net' } },
    });
    assert.equal(own.config.domains.cnameTarget, 'edge.example.net');
    assert.equal(loadConfig({ raw: {} }).config.domains.cnameTarget, undefined);
  });
});
