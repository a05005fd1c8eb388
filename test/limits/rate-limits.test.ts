/**
 * Rate limits end to end: exact 429 counts for a burst, the answer's fields, a project's own
 * limits set through the admin API, and two instances on one Redis holding a shared limit
 * within the documented overshoot (docs/security.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { needsBinary } from '../support/binaries.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { startSwitchyard, upstreamProject } from '../support/switchyard.js';

const agent = new Agent({ connections: 4 });
after(() => agent.close());

async function statuses(origin: string, host: string, n: number) {
  const out: { status: number; headers: Record<string, unknown> }[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(`${origin}/x`, { headers: { host }, dispatcher: agent });
    await res.body.text();
    out.push({ status: res.statusCode, headers: res.headers });
  }
  return out;
}
const count = (list: { status: number }[], status: number) =>
  list.filter((r) => r.status === status).length;

describe('rate limits', () => {
  let app: TestUpstream;
  let edge: TestEdge;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'));
    edge = await startEdge({
      demo: false,
      // 1/s: a burst of 20 requests takes far less than the second that would add a token.
      rateLimit: { perClientIp: { requestsPerSecond: 1, burst: 10 } },
    });
    await deployUpstream(edge, 'api', [app.url]);
    await deployUpstream(edge, 'quota', [app.url]);
  });
  after(async () => {
    await edge.close();
    await app.close();
  });

  it('admits exactly the burst, then answers 429 with Retry-After and the RateLimit fields', async () => {
    const results = await statuses(edge.origin, 'api.localhost', 20);
    assert.equal(count(results, 200), 10);
    assert.equal(count(results, 429), 10);
    const refused = results.find((r) => r.status === 429)!;
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['ratelimit-policy'], '"client-ip";q=10;w=10');
    assert.equal(refused.headers.ratelimit, '"client-ip";r=0;t=1');
    // The limit is the client's, whichever project it asks.
    assert.equal((await statuses(edge.origin, 'quota.localhost', 1))[0]!.status, 429);
  });

  it('takes a project’s own limits from the admin API, and counts refusals per project', async () => {
    const patched = await edge.api('PATCH', '/v1/projects/quota', {
      rateLimit: {
        perClientIp: { requestsPerSecond: 1000, burst: 1000 },
        perProject: { requestsPerSecond: 1, burst: 3 },
      },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.rateLimit.perProject, { requestsPerSecond: 1, burst: 3 });
    const results = await statuses(edge.origin, 'quota.localhost', 6);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 429, 429, 429],
    );
    assert.equal(results[3]!.headers['ratelimit-policy'], '"project";q=3;w=3');
    const bad = await edge.api('PATCH', '/v1/projects/quota', {
      rateLimit: { perProject: { requestsPerSecond: -1, burst: 3 } },
    });
    assert.equal(bad.status, 400);
    const metrics = await edge.api('GET', '/metrics');
    assert.match(
      String(metrics.body),
      /switchyard_rate_limited_total\{project="quota",limit="project"\} 3/,
    );
    assert.match(
      String(metrics.body),
      /switchyard_rate_limited_total\{project="api",limit="client_ip"\} 10/,
    );
  });
});

describe('a project’s own rate limit from the configuration file', () => {
  it('applies it to that project only', async () => {
    const app = await startUpstream((_req, res) => res.end('ok'));
    const sy = await startSwitchyard({
      projects: [
        upstreamProject('capped', [app.url], {
          rateLimit: { perProject: { requestsPerSecond: 1, burst: 2 } },
        }),
        upstreamProject('free', [app.url]),
      ],
    });
    try {
      const capped = await statuses(sy.origin, 'capped.localhost', 4);
      assert.deepEqual(
        capped.map((r) => r.status),
        [200, 200, 429, 429],
      );
      assert.equal(count(await statuses(sy.origin, 'free.localhost', 4), 200), 4);
    } finally {
      await sy.close();
      await app.close();
    }
  });
});

describe(
  'rate limits across a fleet (two instances, one Redis)',
  needsBinary('redis-server'),
  () => {
    let app: TestUpstream;
    let fleet: TestFleet;
    // 2/s with a burst of 10, reconciled every 100 ms.
    const rate = { requestsPerSecond: 2, burst: 10 };
    before(async () => {
      app = await startUpstream((_req, res) => res.end('ok'));
      fleet = await startFleet({ rateLimit: { perProject: rate, syncIntervalMs: 100 } });
      await deployUpstream(fleet.a, 'shared', [app.url]);
    });
    after(async () => {
      await fleet.close();
      await app.close();
    });

    it('holds one limit: what one instance spent, the other does not hand out again', async () => {
      const t0 = Date.now();
      const onA = await statuses(fleet.a.origin, 'shared.localhost', 15);
      assert.equal(count(onA, 200), 10);
      await new Promise((r) => setTimeout(r, 350)); // both have reconciled since
      const onB = await statuses(fleet.b.origin, 'shared.localhost', 15);
      // B starts with its own full bucket (it had never seen the key), spends it, and the
      // shared bucket's debt then holds both: over the whole run, the documented bound.
      const admitted = count(onA, 200) + count(onB, 200);
      const bound = (seconds: number) => rate.burst + rate.requestsPerSecond * seconds;
      const overshoot = rate.burst + rate.requestsPerSecond * 0.2;
      const soFar = (Date.now() - t0) / 1000;
      assert.ok(admitted <= bound(soFar) + overshoot, `${admitted} admitted in ${soFar} s`);
      // A second later each instance alone would have refilled 2 tokens (4 admitted between
      // them); the fleet is still repaying B's overshoot, so what the shared bucket can hold
      // by the end (its level if nothing had been lost: burst plus refill less everything
      // admitted) is all the two may admit, each at most once more for a stale view.
      await new Promise((r) => setTimeout(r, 1000));
      const later = [
        ...(await statuses(fleet.a.origin, 'shared.localhost', 5)),
        ...(await statuses(fleet.b.origin, 'shared.localhost', 5)),
      ];
      const total = (Date.now() - t0) / 1000;
      const left = Math.max(0, Math.floor(bound(total) - admitted));
      // On a quick run B's overshoot is ~10 tokens and 1.6 s refill only 3.2: left is 0.
      assert.ok(
        count(later, 200) <= 2 * left + 1,
        `${count(later, 200)} admitted while the fleet is in debt (${left} left after ${total} s)`,
      );
    });
  },
);
