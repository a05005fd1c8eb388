/**
 * Private keys never enter a store in plain text: certificates issued on the embedded store
 * and on Redis are sealed (the store's bytes are scanned for a PEM key), a fleet sharing the
 * sealing key serves each other's certificates, and keys stored before sealing are sealed at
 * start.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { needsBinary } from '../support/binaries.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { h1 } from '../support/tls-client.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { Sealer } from '../../src/secrets/sealer.js';

const PEM_KEY = /PRIVATE KEY/;

describe('sealing', () => {
  it('seals and opens, bound to what the value is, and says when the key is wrong', () => {
    const sealer = new Sealer(randomBytes(32));
    const sealed = sealer.seal('-----BEGIN PRIVATE KEY-----', 'certificate:a');
    assert.ok(Sealer.isSealed(sealed));
    assert.doesNotMatch(sealed, PEM_KEY);
    assert.equal(sealer.open(sealed, 'certificate:a'), '-----BEGIN PRIVATE KEY-----');
    assert.throws(() => sealer.open(sealed, 'certificate:b'), 'moved to another record');
    assert.throws(
      () => new Sealer(randomBytes(32)).open(sealed, 'certificate:a'),
      /sealed with key/,
    );
  });

  describe('on the embedded store', () => {
    let app: TestUpstream;
    before(async () => {
      app = await startUpstream((_req, res) => res.end('app'));
    });
    after(() => app.close());

    it('stores certificate keys sealed (the database file holds no PEM key), and seals old ones at start', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sy-seal-'));
      const first: TestEdge = await startEdge({ demo: false }, dataDir);
      try {
        await deployUpstream(first, 'app', [app.url]);
        const ca = first.instance.control.tls!.localCa.caPem;
        const port = first.instance.sy.httpsPort!;
        await eventually(async () =>
          assert.equal((await h1(port, 'app.localhost', '/', ca)).body, 'app'),
        );
        const stored = await first.instance.control.store.get('certificate', 'app.localhost');
        assert.ok(Sealer.isSealed((stored?.value as { keyPem: string }).keyPem));
      } finally {
        await first.close();
      }
      // Every byte SQLite wrote (database, write-ahead log): no PEM key anywhere.
      for (const file of readdirSync(dataDir).filter((f) => f.startsWith('state.db'))) {
        assert.doesNotMatch(readFileSync(join(dataDir, file), 'latin1'), PEM_KEY, file);
      }
      // An install from before sealing: a plain key written straight into the store.
      const plain = new EmbeddedStore(join(dataDir, 'state.db'));
      const current = await plain.get('certificate', 'app.localhost');
      const value = current!.value as Record<string, unknown>;
      const issued = await (await import('../../src/tls/local-ca.js')).LocalCa.open(dataDir);
      const fresh = await issued.issue(['old.localhost']);
      await plain.commit([
        {
          kind: 'certificate',
          key: 'old.localhost',
          value: {
            ...value,
            names: ['old.localhost'],
            certPem: fresh.certPem,
            keyPem: fresh.keyPem,
          },
        },
      ]);
      await plain.close();
      const edge = await startEdge({ demo: false }, dataDir);
      try {
        const old = await edge.instance.control.store.get('certificate', 'old.localhost');
        assert.ok(Sealer.isSealed((old?.value as { keyPem: string }).keyPem), 'sealed at start');
        assert.ok(edge.logs.some((l) => l.msg === 'private keys stored in plain text were sealed'));
      } finally {
        await edge.close();
      }
      // Neither the records nor the change history hold the plain key now.
      const check = new EmbeddedStore(join(dataDir, 'state.db'));
      try {
        const snapshot = await check.snapshot();
        assert.doesNotMatch(JSON.stringify(snapshot.records), PEM_KEY);
        const history = new DatabaseSync(join(dataDir, 'state.db'), { readOnly: true });
        const values = history.prepare('SELECT value FROM changes').all();
        history.close();
        assert.doesNotMatch(JSON.stringify(values), PEM_KEY);
      } finally {
        await check.close();
      }
    });
  });

  describe('on Redis, two instances', needsBinary('redis-server'), () => {
    let fleet: TestFleet;
    let a: TestEdge;
    let b: TestEdge;
    let app: TestUpstream;
    before(async () => {
      app = await startUpstream((_req, res) => res.end('fleet app'));
      fleet = await startFleet();
      ({ a, b } = fleet);
    });
    after(async () => {
      await fleet.close();
      await app.close();
    });

    it('serves a certificate sealed by another instance; Redis holds no PEM key', async () => {
      await deployUpstream(a, 'shop', [app.url]);
      const ca = a.instance.control.tls!.localCa.caPem;
      await eventually(async () =>
        assert.equal(
          (await h1(a.instance.sy.httpsPort!, 'shop.localhost', '/', ca)).body,
          'fleet app',
        ),
      );
      // B has its own local CA: it trusts A's certificate only if it opened A's sealed key.
      await eventually(async () => {
        const res = await h1(b.instance.sy.httpsPort!, 'shop.localhost', '/', ca);
        assert.equal(res.body, 'fleet app');
      });
      const client = new Redis({ path: fleet.redis.socket });
      try {
        let dumped = '';
        for (const key of await client.keys('*')) {
          const type = await client.type(key);
          if (type === 'string') dumped += await client.get(key);
          else if (type === 'hash') dumped += JSON.stringify(await client.hgetall(key));
          else if (type === 'stream') dumped += JSON.stringify(await client.xrange(key, '-', '+'));
          else if (type === 'list') dumped += JSON.stringify(await client.lrange(key, 0, -1));
        }
        assert.match(dumped, /sealed:v1:/, 'the certificate is in Redis, sealed');
        assert.doesNotMatch(dumped, PEM_KEY);
      } finally {
        client.disconnect();
      }
    });
  });
});
