import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { startSwitchyard, upstreamProject } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

describe('Server-Sent Events pass-through', () => {
  it('delivers each event as the app sends it, unbuffered', async () => {
    let stream: ServerResponse | undefined;
    const app = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('retry: 1000\n\n');
      stream = res;
    });
    const sy = await startSwitchyard({ projects: [upstreamProject('live', [app.url])] });
    try {
      const req = request(`${sy.origin}/live/events`, { headers: { accept: 'text/event-stream' } });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.setEncoding('utf8');
      assert.equal((await once(res, 'data'))[0], 'retry: 1000\n\n');
      // Each event must arrive while the stream is still open, before the next is sent.
      for (let i = 1; i <= 3; i++) {
        stream!.write(`id: ${i}\ndata: event ${i}\n\n`);
        const [chunk] = (await once(res, 'data')) as [string];
        assert.equal(chunk, `id: ${i}\ndata: event ${i}\n\n`);
      }
      stream!.end();
      await once(res, 'end');
    } finally {
      await sy.close();
      await app.close();
    }
  });
});
