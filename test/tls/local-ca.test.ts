/**
 * The development CA is name-constrained: a certificate it signs for a name outside
 * localhost, loopback and the platform's own names fails verification, so a leaked CA key
 * cannot impersonate another site on a machine that trusts it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { LocalCa } from '../../src/tls/local-ca.js';

/** Serve a certificate the CA issued for `names`, and say whether a client trusting the CA accepts it. */
async function verifies(ca: LocalCa, names: string[], servername: string): Promise<string> {
  const issued = await ca.issue(names);
  const server = createServer({ cert: issued.certPem, key: issued.keyPem }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect(
        {
          port: (server.address() as AddressInfo).port,
          host: '127.0.0.1',
          servername,
          ca: ca.caPem,
        },
        () => {
          socket.end();
          resolve('ok');
        },
      );
      socket.on('error', (err: NodeJS.ErrnoException) =>
        resolve(`${err.code ?? ''} ${err.message}`),
      );
    });
  } finally {
    server.close();
  }
}

describe('local CA', () => {
  it('signs only for localhost, loopback and the platform’s names', async () => {
    const ca = await LocalCa.open(mkdtempSync(join(tmpdir(), 'sy-ca-')), ['apps.example.net']);
    assert.equal(await verifies(ca, ['app.localhost'], 'app.localhost'), 'ok');
    assert.equal(await verifies(ca, ['shop.apps.example.net'], 'shop.apps.example.net'), 'ok');
    const outside = await verifies(ca, ['www.bank.example'], 'www.bank.example');
    assert.notEqual(outside, 'ok', 'a certificate for another site is refused');
    assert.match(outside, /permitted subtree violation/, outside);
  });
});
