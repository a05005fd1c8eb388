import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { needsBinary } from '../support/binaries.js';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { ADMIN_TOKEN, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

/** Open an event stream and collect its events until `count` arrived. */
/**
 * Reads `count` events from a stream. `opened` settles when the response head arrives: the
 * server subscribes before it writes the head, so an event reported after that is seen.
 */
function readEvents(
  url: string,
  count: number,
  headers: Record<string, string> = {},
): Promise<SseEvent[]> & { opened: Promise<void> } {
  let opened!: () => void;
  const openedPromise = new Promise<void>((r) => (opened = r));
  const events = new Promise<SseEvent[]>((resolve, reject) => {
    const events: SseEvent[] = [];
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      opened();
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(': '))
              .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
          );
          if (fields.event === undefined) continue;
          events.push({
            id: fields.id ?? '',
            event: fields.event,
            data: JSON.parse(fields.data ?? 'null'),
          });
          if (events.length >= count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (err) => (events.length >= count ? undefined : reject(err)));
    req.setTimeout(5000, () => reject(new Error(`timed out with ${JSON.stringify(events)}`)));
    req.end();
  });
  return Object.assign(events, { opened: openedPromise });
}

describe('real-time deployment status', () => {
  let edge: TestEdge;
  let app: TestUpstream;
  before(async () => {
    app = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>the app</title><h1 id="app">the app is live</h1>');
    });
    edge = await startEdge({ demo: false });
  });
  after(async () => {
    await edge.close();
    await app.close();
  });

  it('streams status and log events on the admin API, resuming after Last-Event-ID', async () => {
    await edge.api('POST', '/v1/projects', { slug: 'stream' });
    await edge.api('POST', '/v1/projects/stream/deployments', { id: 'd1' });
    const url = `${edge.admin}/v1/projects/stream/deployments/d1/events`;
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const live = readEvents(url, 4, auth);
    await live.opened;
    await edge.api('POST', '/v1/projects/stream/deployments/d1/status', { status: 'building' });
    await edge.api('POST', '/v1/projects/stream/deployments/d1/logs', {
      lines: ['step 1', 'step 2'],
    });
    const events = await live;
    assert.deepEqual(
      events.map((e) => [e.id, e.event]),
      [
        ['1', 'status'],
        ['2', 'status'],
        ['3', 'log'],
        ['4', 'log'],
      ],
    );
    assert.deepEqual(events[1]!.data, { status: 'building', message: null });
    assert.deepEqual(events[3]!.data, { line: 'step 2' });
    const resumed = await readEvents(url, 1, { ...auth, 'last-event-id': '3' });
    assert.deepEqual(
      resumed.map((e) => [e.id, e.data]),
      [['4', { line: 'step 2' }]],
    );
    const unauthenticated = await fetchText(url);
    assert.equal(unauthenticated.status, 401);
  });

  it('streams a project’s deployment statuses', async () => {
    const url = `${edge.admin}/v1/projects/stream/events`;
    const events = readEvents(url, 2, { authorization: `Bearer ${ADMIN_TOKEN}` });
    await events.opened;
    await edge.api('POST', '/v1/projects/stream/deployments/d1/status', {
      status: 'error',
      message: 'npm ERR! missing script: build',
    });
    const [snapshot, status] = await events;
    assert.equal(snapshot!.event, 'snapshot');
    assert.equal(status!.event, 'status');
    assert.deepEqual(status!.data, {
      deployment: 'd1',
      status: 'error',
      message: 'npm ERR! missing script: build',
    });
    const page = await fetchText(`${edge.origin}/stream/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 502);
    assert.match(
      page.body,
      /npm ERR! missing script: build/,
      'the error page shows the build’s message',
    );
  });

  it('answers non-browser clients of a building deployment with 503 and Retry-After', async () => {
    await edge.api('POST', '/v1/projects', { slug: 'plain' });
    await edge.api('POST', '/v1/projects/plain/deployments', { id: 'd1' });
    await eventually(async () => {
      const res = await fetchText(`${edge.origin}/plain/`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.equal(JSON.parse(res.body).code, 'SY_DEPLOYMENT_NOT_READY');
    });
  });

  describe('the building page in a browser', needsBinary(CHROMIUM), () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(() => browser.close());

    for (const what of ['path routing', 'its preview host'] as const) {
      it(`follows the build and turns into the app when ready (${what})`, async () => {
        const slug = 'live';
        if (what === 'path routing') {
          // This project shows its build logs to visitors (off by default: tenancy.test.ts).
          await edge.api('POST', '/v1/projects', { slug, publicBuildLogs: true });
          await edge.api('POST', `/v1/projects/${slug}/deployments`, {
            id: 'd1',
            status: 'building',
          });
        } else {
          // A second deployment builds while d1 serves production: its preview host shows d1's state.
          await edge.api('POST', `/v1/projects/${slug}/deployments`, {
            id: 'd2',
            status: 'building',
          });
        }
        const page = await browser.newPage();
        try {
          const target =
            what === 'path routing'
              ? `${edge.origin}/live/`
              : `http://d2--live.localhost:${edge.port}/`;
          await eventually(async () => {
            const res = await page.goto(target);
            assert.equal(res?.status(), 503);
          });
          await page.waitForSelector('#status');
          assert.match((await page.textContent('h1')) ?? '', /Deploying/);
          const id = what === 'path routing' ? 'd1' : 'd2';
          await edge.api('POST', `/v1/projects/${slug}/deployments/${id}/logs`, {
            lines: [`compiling ${id}`],
          });
          await page.waitForFunction(
            `document.getElementById('log').textContent.includes('compiling ${id}')`,
          );
          await edge.api('POST', `/v1/projects/${slug}/deployments/${id}/status`, {
            status: 'ready',
            origin: { upstream: { replicas: [app.url] } },
          });
          await page.waitForSelector('#app', { timeout: 5000 });
          assert.equal(await page.textContent('#app'), 'the app is live');
        } finally {
          await page.close();
        }
      });
    }
  });
});
