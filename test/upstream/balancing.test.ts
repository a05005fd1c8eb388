import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchText } from '../support/http.js';
import { startSwitchyard, type TestSwitchyard } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('upstream origin: load balancing through the proxy', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let c: TestUpstream;
  let sy: TestSwitchyard;
  before(async () => {
    a = await startUpstream((_req, res) => res.end('a'));
    b = await startUpstream((_req, res) => res.end('b'));
    c = await startUpstream((_req, res) => res.end('c'));
    sy = await startSwitchyard({
      projects: [
        {
          slug: 'weighted',
          deployments: [{ id: 'd1', upstream: { replicas: [a.url, b.url], weights: [3, 1] } }],
        },
        {
          slug: 'sticky',
          deployments: [
            {
              id: 'd1',
              upstream: {
                replicas: [a.url, b.url, c.url],
                balancing: { policy: 'consistent-hash', hashOn: 'cookie:session' },
              },
            },
          ],
        },
        {
          slug: 'least',
          deployments: [
            {
              id: 'd1',
              upstream: { replicas: [a.url, b.url], balancing: { policy: 'least-outstanding' } },
            },
          ],
        },
      ],
    });
  });
  after(async () => {
    await sy.close();
    for (const u of [a, b, c]) await u.close();
  });

  it('shares traffic by weight', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push((await fetchText(`${sy.origin}/weighted/`)).body);
    assert.equal(seen.filter((s) => s === 'a').length, 30);
    assert.equal(seen.filter((s) => s === 'b').length, 10);
  });

  it('keeps a session on one replica by its cookie, and spreads sessions', async () => {
    const owners = new Map<string, string>();
    for (let s = 0; s < 30; s++) {
      const cookie = `theme=dark; session=user-${s}; other=1`;
      const first = (await fetchText(`${sy.origin}/sticky/`, { headers: { cookie } })).body;
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await fetchText(`${sy.origin}/sticky/`, { headers: { cookie } })).body,
          first,
        );
      }
      owners.set(`user-${s}`, first);
    }
    assert.equal(new Set(owners.values()).size, 3, 'thirty sessions land on all three replicas');
  });

  it('rejects weights that do not match the replicas', async () => {
    await assert.rejects(
      startSwitchyard({
        projects: [
          {
            slug: 'bad',
            deployments: [{ id: 'd1', upstream: { replicas: [a.url], weights: [1, 2] } }],
          },
        ],
      }),
      /weights: got 2 weights, expected one per replica \(1\)/,
    );
  });

  it('serves with least-outstanding too', async () => {
    const bodies = new Set<string>();
    await Promise.all(
      Array.from({ length: 20 }, async () =>
        bodies.add((await fetchText(`${sy.origin}/least/`)).body),
      ),
    );
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
  });
});
