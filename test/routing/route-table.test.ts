import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProjectSpec } from '../../src/model/site.js';
import type { Origin } from '../../src/origin/origin.js';
import { normalizeHost } from '../../src/http/host.js';
import { RouteTable } from '../../src/routing/route-table.js';

const origin = (name: string): Origin =>
  ({ kind: 'static', name, handle() {}, upgrade() {}, close: () => Promise.resolve() }) as Origin;

function project(slug: string, extra: Partial<ProjectSpec> = {}): ProjectSpec {
  return {
    slug,
    production: 'd2',
    aliases: { staging: 'd1' },
    domains: [],
    rootPaths: [],
    httpsRedirect: false,
    deployments: ['d1', 'd2'].map((id) => ({
      id,
      status: 'ready' as const,
      origin: {
        kind: 'static' as const,
        dir: `/srv/${slug}/${id}`,
        spa: false,
        cleanUrls: true,
        immutable: false,
      },
    })),
    ...extra,
  };
}

const table = RouteTable.compile(
  { hosts: ['localhost', 'Platform.Example.com'], domains: ['apps.example.com', 'localhost'] },
  [project('usera', { domains: ['www.usera.com'] }), project('userb')],
  (p, i) => origin(`${p.slug}/${p.deployments[i]!.id}`),
);

describe('normalizeHost', () => {
  it('ignores case, port and a trailing dot', () => {
    assert.equal(normalizeHost('UserA.Apps.Example.COM.:8443'), 'usera.apps.example.com');
    assert.equal(normalizeHost('localhost:8080'), 'localhost');
    assert.equal(normalizeHost('[::1]:8080'), '[::1]');
    assert.equal(normalizeHost('127.0.0.1'), '127.0.0.1');
  });
});

describe('RouteTable', () => {
  it('recognises platform hosts', () => {
    assert.deepEqual(table.resolveHost('platform.example.com'), { kind: 'platform' });
    assert.deepEqual(table.resolveHost('localhost'), { kind: 'platform' });
  });

  it('routes subdomains to the production deployment', () => {
    const r = table.resolveHost('usera.apps.example.com');
    assert.equal(r?.kind, 'project');
    assert.equal(r.kind === 'project' && r.deployment?.id, 'd2');
  });

  it('routes preview hosts by deployment id and by branch alias', () => {
    const d1 = table.resolveHost('d1--usera.apps.example.com');
    assert.equal(d1?.kind === 'project' && d1.deployment?.id, 'd1');
    const staging = table.resolveHost('staging--userb.localhost');
    assert.equal(staging?.kind === 'project' && staging.deployment?.id, 'd1');
    assert.equal(table.resolveHost('nope--usera.apps.example.com')?.kind, 'unknown-preview');
  });

  it('routes custom domains exactly', () => {
    const r = table.resolveHost('www.usera.com');
    assert.equal(r?.kind === 'project' && r.project.slug, 'usera');
    assert.equal(table.resolveHost('usera.com'), undefined);
  });

  it('knows nothing else', () => {
    assert.equal(table.resolveHost('evil.com'), undefined);
    assert.equal(table.resolveHost('x.usera.apps.example.com'), undefined);
    assert.equal(table.resolveHost('unknown.apps.example.com'), undefined);
    assert.equal(table.resolveHost('apps.example.com'), undefined);
  });

  it('finds projects by slug for path routing', () => {
    assert.equal(table.project('userb')?.slug, 'userb');
    assert.equal(table.project('nobody'), undefined);
    assert.equal(table.size, 2);
  });
});
