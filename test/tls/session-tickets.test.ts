/**
 * TLS session resumption across a fleet: two instances on one Redis share the session-ticket
 * key (sealed in the store), so a session made with one resumes on the other; a rotation by
 * either reaches both, and tickets from the previous key keep resuming until the next one.
 */
import assert from 'node:assert/strict';
import { connect, type TLSSocket } from 'node:tls';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { eventually } from '../support/eventually.js';
import { startFleet, type TestFleet } from '../support/fleet.js';

/** Handshake with `port` (resuming `session` if given); the session to resume next, and whether this one was. */
function handshake(
  port: number,
  session?: Buffer,
): Promise<{ session: Buffer | undefined; reused: boolean }> {
  return new Promise((resolve, reject) => {
    let reused = false;
    let next: Buffer | undefined;
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...(session === undefined ? {} : { session }),
    });
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.write(
        'GET /_switchyard/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      );
    });
    // TLS 1.3 sends its tickets after the handshake (none when a session was resumed).
    socket.on('session', (s: Buffer) => (next ??= s));
    socket.resume();
    socket.on('close', () => resolve({ session: next, reused }));
    socket.on('error', reject);
  });
}

describe('TLS session tickets shared by a fleet', needsBinary('redis-server'), () => {
  let fleet: TestFleet;
  let a: number;
  let b: number;
  before(async () => {
    fleet = await startFleet({ https: { enabled: true, host: '127.0.0.1' } });
    a = fleet.a.instance.sy.httpsPort!;
    b = fleet.b.instance.sy.httpsPort!;
  });
  after(() => fleet.close());

  it('resumes on one instance a session made with the other, and keeps the key sealed', async () => {
    const first = await handshake(a);
    assert.equal(first.reused, false);
    assert.equal((await handshake(b, first.session)).reused, true, 'A’s ticket resumes on B');
    const client = new Redis({ path: fleet.redis.socket });
    try {
      const stored = await client.hget('sy:rec:account', 'tls:session-tickets');
      assert.match(String(stored), /"keyPem":"sealed:v1:/);
    } finally {
      client.disconnect();
    }
  });

  it('moves both instances to a new key when one rotates it, still accepting the previous key', async () => {
    const before = await handshake(a);
    const tickets = fleet.a.instance.control.tls!.tickets;
    assert.equal(await tickets.rotateIfDue(Date.now() + 25 * 3_600_000), true);
    // A new session from A resumes on B once B has the new key from the store.
    await eventually(async () => {
      const fresh = await handshake(a);
      assert.equal((await handshake(b, fresh.session)).reused, true);
    });
    // A ticket from the previous key still resumes, on either instance, and the client is
    // given a ticket under the current key.
    const onB = await handshake(b, before.session);
    assert.equal(onB.reused, true, 'previous-key ticket accepted by B');
    assert.equal((await handshake(a, before.session)).reused, true, 'and by A');
    assert.ok(onB.session !== undefined, 'a renewed ticket is issued');
    assert.equal((await handshake(a, onB.session)).reused, true);
    // One more rotation retires that key: its tickets make a full handshake, and nothing fails.
    assert.equal(await tickets.rotateIfDue(Date.now() + 50 * 3_600_000), true);
    await eventually(async () => {
      assert.equal((await handshake(b, before.session)).reused, false);
    });
    assert.equal((await handshake(a, before.session)).reused, false);
    const client = new Redis({ path: fleet.redis.socket });
    try {
      const stored = JSON.parse(String(await client.hget('sy:rec:account', 'tls:session-tickets')));
      assert.match(stored.previousKeyPem, /^sealed:v1:/, 'the previous key is sealed too');
    } finally {
      client.disconnect();
    }
  });
});
