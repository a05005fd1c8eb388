import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { dig } from '../support/dig.js';
import { startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { sharedKeyFile } from '../support/secret-key.js';

const ZONE = 'fleet.example.com';
const addressesAt = async (port: number) =>
  (await dig(port, `shop.${ZONE}`, 'A')).answer.map((line) => line.split(' ').at(-1)).sort();

const needs = { skip: needsBinary('redis-server').skip || needsBinary('dig').skip };

describe('DNS answers follow the fleet: three instances on one Redis', needs, () => {
  let redis: TestRedis;
  let a: TestEdge;
  let b: TestEdge;
  let c: RunningSwitchyard;
  const dnsOf = (address: string) => ({
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    addresses: [address],
  });
  before(async () => {
    redis = await startRedis();
    const shared = {
      demo: false,
      store: redis.storeUrl,
      secrets: { keyFile: sharedKeyFile() },
      https: { enabled: false },
      platform: { domains: [ZONE] },
    };
    a = await startEdge({ ...shared, dns: dnsOf('203.0.113.1'), fleet: { heartbeatMs: 100 } });
    // B drains for a second and a half on close (not ready, still serving).
    b = await startEdge({
      ...shared,
      dns: dnsOf('203.0.113.2'),
      shutdown: { drainMs: 1500 },
      fleet: { heartbeatMs: 100 },
    });
    // The third is the real executable, so that it can be killed without saying goodbye.
    const file = join(mkdtempSync(join(tmpdir(), 'sy-dns-')), 'switchyard.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        ...shared,
        admin: { enabled: false },
        dns: dnsOf('203.0.113.3'),
        fleet: { heartbeatMs: 100 },
      }),
    );
    c = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    c.proc.kill('SIGKILL');
    await a.close();
    await b.close().catch(() => {});
    await redis.close();
  });

  it('every instance answers with every healthy instance’s address', async () => {
    const all = ['203.0.113.1', '203.0.113.2', '203.0.113.3'];
    for (const edge of [a, b]) {
      await eventually(async () => {
        assert.deepEqual(await addressesAt(edge.instance.control.dns!.port), all);
      }, 5000);
    }
  });

  it('a challenge written through one instance is answered by another', async () => {
    const name = `_acme-challenge.${ZONE}`;
    await a.instance.control.store.commit([
      {
        kind: 'challenge',
        key: 'fleet-token',
        value: {
          token: 'fleet-token',
          keyAuthorization: 'proof-from-a',
          name: `*.${ZONE}`,
          createdAt: new Date().toISOString(),
          type: 'dns-01',
          dnsName: name,
        },
      },
    ]);
    await eventually(async () => {
      const txt = await dig(b.instance.control.dns!.port, name, 'TXT');
      assert.deepEqual(txt.answer, [`${name}. 1 IN TXT "proof-from-a"`]);
    }, 3000);
  });

  it('a killed instance leaves the answers within a few heartbeats', async () => {
    const killedAt = Date.now();
    c.proc.kill('SIGKILL');
    await c.exited;
    await eventually(async () => {
      assert.deepEqual(await addressesAt(a.instance.control.dns!.port), [
        '203.0.113.1',
        '203.0.113.2',
      ]);
    }, 5000);
    // Three missed heartbeats of 100 ms, and the time to notice.
    assert.ok(Date.now() - killedAt < 2000, `${Date.now() - killedAt} ms`);
  });

  it('a draining instance leaves at once, before its connections close', async () => {
    const closing = b.close();
    await eventually(async () => {
      assert.deepEqual(await addressesAt(a.instance.control.dns!.port), ['203.0.113.1']);
    }, 2000);
    await closing;
  });
});
