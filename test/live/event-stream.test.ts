/**
 * An event stream's client that falls behind is dropped, not buffered for without end (it
 * reconnects with Last-Event-ID and resumes from the backlog); one that keeps up gets every
 * event. A real node:http server and client on loopback.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MAX_BEHIND_BYTES, openEventStream } from '../../src/live/event-stream.js';

const DATA = 'x'.repeat(16 * 1024);

/**
 * A server that sends `events` events of 16 KiB, one per turn of the event loop, to a client
 * that reads them (counted) or, once the head has come, reads nothing.
 */
async function flood(events: number, reads: boolean) {
  let mostBehind = 0;
  let sent = 0;
  let received = 0;
  let dropped!: () => boolean;
  const server = createServer((_req, res) => {
    dropped = () => res.destroyed && !res.writableFinished;
    const stream = openEventStream(res, {}, () => server.close());
    const next = (): void => {
      if (stream.closed) return;
      if (sent === events) {
        res.end();
        return;
      }
      stream.send(sent++, 'log', { line: DATA });
      mostBehind = Math.max(mostBehind, res.writableLength);
      setImmediate(next);
    };
    next();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const req = request({ port: (server.address() as AddressInfo).port, path: '/events' });
  req.on('error', () => {});
  req.end();
  const [client] = (await once(req, 'response')) as [IncomingMessage];
  client.on('error', () => {});
  if (reads) {
    client.setEncoding('utf8').on('data', (d: string) => {
      received += d.split('\nevent: log\n').length - 1;
    });
  } else client.pause();
  await once(server, 'close');
  client.destroy();
  return { sent, received, mostBehind, dropped: dropped() };
}

describe('event streams and slow clients', () => {
  it('drops a client that falls more than MAX_BEHIND_BYTES behind', async () => {
    const run = await flood(100_000, false); // 1.6 GB if it were all kept
    assert.ok(run.dropped);
    assert.ok(run.sent < 2000, `${run.sent} events sent before the drop`);
    // Never more than the cap and the one event that passed it.
    assert.ok(run.mostBehind <= MAX_BEHIND_BYTES + 17 * 1024, `${run.mostBehind} bytes behind`);
  });

  it('gives a client that keeps up every event', async () => {
    const run = await flood(400, true); // 6.4 MB
    assert.equal(run.dropped, false);
    assert.equal(run.received, 400);
  });
});
