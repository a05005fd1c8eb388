/**
 * The "building" page: what a deployment's URLs show while it is queued or building. It
 * follows the deployment's event stream — the same URL asked for `text/event-stream` — shows
 * the latest build log lines, and reloads into the app as soon as the deployment is ready
 * (or shows the error it failed with). Served with 503 and Retry-After: crawlers and
 * monitors see "not yet", browsers see the progress.
 */
import { escapeHtml } from '../request/error-renderer.js';

/** Log lines the page keeps on screen. */
const LINES_SHOWN = 30;

export function renderBuildingPage(project: string, deployment: string, status: string): string {
  const p = escapeHtml(project);
  const d = escapeHtml(deployment);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Building ${p}…</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}pre{background:#111;color:#ddd;padding:1rem;border-radius:6px;min-height:6rem;
white-space:pre-wrap;overflow:auto;max-height:24rem;font-size:13px}small{color:#777}
#status{font-weight:600}.error{color:#b00}</style>
</head><body>
<h1>Deploying <code>${p}</code></h1>
<p>Deployment <code>${d}</code> is <span id="status">${escapeHtml(status)}</span>. This page turns into the app when it is ready.</p>
<pre id="log" aria-live="polite"></pre>
<p id="message"></p>
<p><small>Switchyard</small></p>
<script>
(() => {
  const log = document.getElementById('log');
  const statusEl = document.getElementById('status');
  const message = document.getElementById('message');
  const lines = [];
  const source = new EventSource(location.href);
  source.addEventListener('log', (e) => {
    lines.push(JSON.parse(e.data).line);
    if (lines.length > ${LINES_SHOWN}) lines.shift();
    log.textContent = lines.join('\\n');
    log.scrollTop = log.scrollHeight;
  });
  source.addEventListener('status', (e) => {
    const s = JSON.parse(e.data);
    statusEl.textContent = s.status;
    if (s.status === 'ready') { source.close(); location.reload(); }
    else if (s.status === 'error' || s.status === 'canceled') {
      source.close();
      message.className = 'error';
      message.textContent = s.message || ('The deployment ' + (s.status === 'error' ? 'failed.' : 'was canceled.'));
    }
  });
})();
</script>
</body></html>
`;
}
