/**
 * The ticket key ring's IVs: each new ticket gets its own random IV, cut from a pool that is
 * refilled when used up. Checked on the tickets real clients receive from a real TLS server
 * (an OpenSSL ticket is key name, IV, sealed state, MAC), across more tickets than one pool
 * holds, and a ticket sealed after a refill still resumes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { LocalCa } from '../../src/tls/local-ca.js';
import { TicketKeyRing } from '../../src/tls/ticket-key-ring.js';

/** One handshake; the tickets it received, its last session, whether it resumed `session`. */
function handshake(
  port: number,
  session?: Buffer,
): Promise<{ tickets: Buffer[]; session: Buffer | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const tickets: Buffer[] = [];
    let last: Buffer | undefined;
    let reused = false;
    const socket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(session === undefined ? {} : { session }),
    });
    socket.once('secureConnect', () => (reused = socket.isSessionReused()));
    socket.on('session', (s: Buffer) => {
      last = s;
      const ticket = socket.getTLSTicket();
      if (ticket !== undefined) tickets.push(ticket);
    });
    socket.resume();
    socket.on('close', () => resolve({ tickets, session: last, reused }));
    socket.on('error', reject);
  });
}

describe('session-ticket IVs', () => {
  const key = Buffer.alloc(48, 7);
  let server: Server;
  let port: number;
  const dir = mkdtempSync(join(tmpdir(), 'sy-tickets-'));
  before(async () => {
    const ca = await LocalCa.open(dir);
    const leaf = await ca.issue(['localhost']);
    server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end('x'));
    const ring = new TicketKeyRing();
    ring.set(key);
    assert.equal(ring.install(server), true, 'the ticket key callback is on this runtime');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every ticket its own IV, across refills of the pool, and resumes after one', async () => {
    const ivs = new Set<string>();
    let tickets = 0;
    let session: Buffer | undefined;
    // TLS 1.3 sends two tickets per full handshake: 160 handshakes take more than one pool.
    for (let i = 0; i < 160; i++) {
      const got = await handshake(port);
      session = got.session;
      for (const ticket of got.tickets) {
        tickets++;
        assert.deepEqual(ticket.subarray(0, 16), key.subarray(0, 16), 'sealed with the key');
        ivs.add(ticket.subarray(16, 32).toString('hex'));
      }
    }
    assert.ok(tickets > 256, `${tickets} tickets, more than one pool of 256 IVs`);
    assert.equal(ivs.size, tickets, 'no IV seen twice');
    assert.equal((await handshake(port, session)).reused, true);
  });
});
