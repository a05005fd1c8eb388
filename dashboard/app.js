// The Switchyard dashboard: signs in with an API token (kept in sessionStorage, this tab
// only), reads a snapshot a second from /v1/dashboard/events (fetch, so the token travels in
// the Authorization header, never in a URL), and renders it with DOM calls — never
// innerHTML, so no name from the data can become markup. Rates and percentiles are
// differences between snapshots kept here (the server sends cumulative counters).

const TOKEN_KEY = 'switchyard.token';
/** Upper bounds of the latency buckets, seconds (src/observability/project-traffic.ts). */
const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const HISTORY = 301; // five minutes of one-second snapshots
const WINDOW = 10; // seconds the table's rates are measured over

const $ = (id) => document.getElementById(id);
/** `h('td', { class: 'num' }, 'text', child …)` */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let token = sessionStorage.getItem(TOKEN_KEY);
let aborter;
const history = []; // { t, traffic }
let last; // the last snapshot
const rendered = {}; // section → JSON of what it shows, to redraw only what changed

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  aborter?.abort();
  history.length = 0;
  for (const k of Object.keys(rendered)) delete rendered[k];
  $('board').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  $('instance').textContent = '';
  $('signin-error').textContent = message;
  $('token').focus();
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : undefined;
  if (!res.ok) throw new Error(data?.detail ?? `${method} ${path}: ${res.status}`);
  return data;
}

/** Read the event stream; reconnect after a drop. */
async function follow() {
  aborter?.abort();
  const controller = (aborter = new AbortController());
  while (!controller.signal.aborted) {
    try {
      const res = await fetch('/v1/dashboard/events', {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (res.status === 401 || res.status === 403) {
        signOut(res.status === 401 ? 'That token is not valid.' : 'That token may not read.');
        return;
      }
      if (!res.ok) throw new Error(`status ${res.status}`);
      $('signin').hidden = true;
      $('board').hidden = false;
      $('signout').hidden = false;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'snapshot' && data !== undefined) onSnapshot(JSON.parse(data));
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      $('instance').textContent = `connection lost (${err.message}); retrying…`;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function onSnapshot(snapshot) {
  announceChanges(last, snapshot);
  last = snapshot;
  history.push({ t: Date.parse(snapshot.at), traffic: snapshot.traffic });
  if (history.length > HISTORY) history.shift();
  const i = snapshot.instance;
  const fleet =
    snapshot.fleet === undefined
      ? ''
      : ` · fleet: ${snapshot.fleet.filter((f) => f.healthy).length} of ${snapshot.fleet.length} healthy`;
  $('instance').textContent =
    `${i.status} · store ${i.store.kind} ${i.store.connected ? 'connected' : 'unreachable'}, revision ${i.store.revision} · ${snapshot.projectsTotal} projects${fleet}`;
  renderTraffic(snapshot);
  redraw('projects', snapshot.projects, renderProjects);
  redraw('fleet', snapshot.fleet, renderFleet);
  redraw('certificates', snapshot.certificates, renderCertificates);
}

/** Redraw a section only when its data changed, keeping keyboard focus where it was. */
function redraw(name, data, render) {
  const json = JSON.stringify(data ?? null);
  if (rendered[name] === json) return;
  rendered[name] = json;
  const focused = document.activeElement?.id;
  render(data);
  if (focused) document.getElementById(focused)?.focus();
}

/** Say status changes out loud for screen readers (and in the page for everyone else). */
function announceChanges(before, after) {
  if (before === undefined) return;
  const was = new Map();
  for (const p of before.projects)
    for (const d of p.deployments) was.set(`${p.slug}/${d.id}`, d.status);
  const said = [];
  for (const p of after.projects) {
    for (const d of p.deployments) {
      const prev = was.get(`${p.slug}/${d.id}`);
      if (prev !== undefined && prev !== d.status)
        said.push(`${p.slug} ${d.id} is now ${d.status}`);
    }
  }
  if (said.length > 0) $('announce').textContent = said.join('. ');
}

// ---- traffic

function windowed(slug) {
  const now = history.at(-1);
  const from = history[Math.max(0, history.length - 1 - WINDOW)];
  const a = from?.traffic[slug];
  const b = now?.traffic[slug];
  if (b === undefined) return undefined;
  const seconds = Math.max(1, (now.t - from.t) / 1000);
  const d = (k) => Math.max(0, b[k] - (a?.[k] ?? 0)); // a restarted instance counts from 0
  const latency = b.latency.map((n, i) => Math.max(0, n - (a?.latency[i] ?? 0)));
  const hits = d('cacheHits');
  const misses = d('cacheMisses');
  return {
    rps: d('requests') / seconds,
    e4: d('status4xx') / seconds,
    e5: d('status5xx') / seconds,
    bps: d('bytes') / seconds,
    hit: hits + misses === 0 ? undefined : hits / (hits + misses),
    p50: percentile(latency, 0.5),
    p95: percentile(latency, 0.95),
  };
}

function percentile(buckets, q) {
  const total = buckets.reduce((s, n) => s + n, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= q * total) return i < LATENCY_BOUNDS.length ? LATENCY_BOUNDS[i] : Infinity;
  }
  return Infinity;
}

const when = (iso) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });

const fmt = {
  rate: (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  ms: (s) =>
    s === undefined ? '–' : s === Infinity ? '> 10 s' : s < 1 ? `≤ ${s * 1000} ms` : `≤ ${s} s`,
  pct: (r) => (r === undefined ? '–' : `${Math.round(r * 100)} %`),
  bytes: (n) =>
    n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB/s`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB/s`
        : `${Math.round(n)} B/s`,
};

function sparkline(slug) {
  const points = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1].traffic[slug]?.requests ?? 0;
    const b = history[i].traffic[slug]?.requests ?? 0;
    const dt = Math.max(0.001, (history[i].t - history[i - 1].t) / 1000);
    points.push(Math.max(0, b - a) / dt);
  }
  const max = Math.max(1, ...points);
  const w = 120;
  const step = w / Math.max(1, HISTORY - 1);
  const offset = w - step * points.length;
  const coords = points.map(
    (v, i) => `${(offset + i * step).toFixed(1)},${(24 - (v / max) * 22).toFixed(1)}`,
  );
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} 26`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    `requests per second of ${slug}, last five minutes, peak ${fmt.rate(max)}`,
  );
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', coords.join(' '));
  svg.append(line);
  return svg;
}

function renderTraffic(snapshot) {
  const slugs = Object.keys(snapshot.traffic).sort(
    (a, b) => snapshot.traffic[b].requests - snapshot.traffic[a].requests,
  );
  const table = $('traffic');
  table.replaceChildren(
    h('caption', { class: 'visually-hidden' }, 'Traffic per project'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          'Project',
          'Requests/s',
          '4xx/s',
          '5xx/s',
          'p50',
          'p95',
          'Cache hits',
          'Sent',
          'Last 5 min',
        ].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      slugs.length === 0
        ? h('tr', {}, h('td', { colspan: 9 }, 'No requests yet.'))
        : slugs.map((slug) => {
            const w = windowed(slug) ?? {};
            return h(
              'tr',
              {},
              h('th', { scope: 'row' }, slug),
              h('td', { class: 'num' }, fmt.rate(w.rps ?? 0)),
              h('td', { class: 'num' }, fmt.rate(w.e4 ?? 0)),
              h('td', { class: 'num' }, fmt.rate(w.e5 ?? 0)),
              h('td', { class: 'num' }, fmt.ms(w.p50)),
              h('td', { class: 'num' }, fmt.ms(w.p95)),
              h('td', { class: 'num' }, fmt.pct(w.hit)),
              h('td', { class: 'num' }, fmt.bytes(w.bps ?? 0)),
              h('td', {}, sparkline(slug)),
            );
          }),
    ),
  );
}

// ---- projects, deployments, domains, replicas

async function act(button, what) {
  button.disabled = true;
  try {
    await what();
    $('announce').textContent = `${button.textContent} done`;
  } catch (err) {
    $('announce').textContent = err.message;
    alert(err.message);
  } finally {
    button.disabled = false;
  }
}

async function showLogs(project, deployment) {
  const panel = $('logs-panel');
  $('logs-title').textContent = `Build log of ${project} ${deployment}`;
  $('logs').textContent = 'loading…';
  panel.hidden = false;
  try {
    const { items } = await api(
      'GET',
      `/v1/projects/${encodeURIComponent(project)}/deployments/${encodeURIComponent(deployment)}/logs`,
    );
    const lines = items.map(
      (e) =>
        `${e.at.slice(11, 19)}  ${e.type === 'log' ? e.data.line : `status: ${e.data.status}${e.data.message ? ` (${e.data.message})` : ''}`}`,
    );
    $('logs').textContent = lines.length === 0 ? '(nothing logged)' : lines.join('\n');
  } catch (err) {
    $('logs').textContent = err.message;
  }
  $('logs').focus();
}

function renderProjects(projects) {
  const container = $('projects');
  if (projects.length === 0) {
    container.replaceChildren(
      h('p', {}, 'No projects yet: create one with `switchyard deploy` or the admin API.'),
    );
    return;
  }
  container.replaceChildren(
    ...projects.map((p) => {
      const slug = p.slug;
      const path = `/v1/projects/${encodeURIComponent(slug)}`;
      const readOnly = p.declared;
      return h(
        'article',
        { class: 'card', 'aria-labelledby': `p-${slug}` },
        h(
          'h3',
          { id: `p-${slug}` },
          slug,
          readOnly
            ? h(
                'span',
                { class: 'badge', title: 'declared in the configuration file' },
                'read-only',
              )
            : undefined,
        ),
        h(
          'p',
          { class: 'meta' },
          'production: ',
          h('strong', { 'data-production': slug }, p.production ?? 'none'),
          ' ',
          h(
            'button',
            {
              type: 'button',
              id: `rollback-${slug}`,
              disabled: readOnly || p.production === null,
              onclick: (e) => act(e.currentTarget, () => api('POST', `${path}/rollback`)),
            },
            'Roll back',
          ),
        ),
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, `Deployments of ${slug}`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Deployment', 'Status', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h(
            'tbody',
            {},
            p.deployments.map((d) =>
              h(
                'tr',
                { 'data-deployment': `${slug}/${d.id}` },
                h('th', { scope: 'row' }, d.id, d.id === p.production ? ' ★' : ''),
                h(
                  'td',
                  {},
                  h('span', { class: `badge s-${d.status}`, 'data-status': d.status }, d.status),
                  d.message ? ` ${d.message}` : '',
                ),
                h('td', {}, d.createdAt ? when(d.createdAt) : '–'),
                h(
                  'td',
                  {},
                  h(
                    'div',
                    { class: 'actions' },
                    h(
                      'button',
                      {
                        type: 'button',
                        id: `promote-${slug}-${d.id}`,
                        disabled: readOnly || d.status !== 'ready' || d.id === p.production,
                        onclick: (e) =>
                          act(e.currentTarget, () =>
                            api('POST', `${path}/promote`, { deployment: d.id }),
                          ),
                      },
                      'Promote',
                    ),
                    h(
                      'button',
                      {
                        type: 'button',
                        id: `logs-${slug}-${d.id}`,
                        disabled: readOnly,
                        onclick: () => showLogs(slug, d.id),
                      },
                      'Log',
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
        p.domains.length === 0
          ? undefined
          : h(
              'p',
              { class: 'meta' },
              'domains: ',
              p.domains.map((d, i) => [
                i > 0 ? ', ' : '',
                d.domain,
                ' ',
                h(
                  'span',
                  { class: `badge s-${d.verified ? 'verified' : 'pending'}` },
                  d.verified ? 'verified' : 'not verified',
                ),
              ]),
            ),
        p.replicas.length === 0
          ? undefined
          : h(
              'p',
              { class: 'meta' },
              'replicas: ',
              p.replicas.map((r, i) => [
                i > 0 ? ', ' : '',
                r.url,
                ' ',
                h('span', { class: `badge s-${r.state}` }, r.state),
              ]),
            ),
      );
    }),
  );
}

// ---- fleet and certificates (the platform's own token only)

function renderFleet(fleet) {
  $('fleet-section').hidden = fleet === undefined;
  if (fleet === undefined) return;
  $('fleet').replaceChildren(
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Instance', 'Host', 'Addresses', 'State', 'Up since'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      fleet.map((f) => {
        const state = f.draining ? 'draining' : f.healthy ? 'healthy' : 'down';
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, f.id),
          h('td', {}, f.hostname),
          h('td', {}, f.addresses.join(', ') || '–'),
          h('td', {}, h('span', { class: `badge s-${state}` }, state)),
          h('td', {}, when(f.startedAt)),
        );
      }),
    ),
  );
}

function renderCertificates(certificates) {
  $('certificates-section').hidden = certificates === undefined;
  if (certificates === undefined) return;
  $('certificates').replaceChildren(
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Name', 'Issuer', 'Expires', 'Order'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      certificates.length === 0
        ? h('tr', {}, h('td', { colspan: 4 }, 'No certificates yet.'))
        : certificates.map((c) => {
            const days = c.notAfter
              ? Math.floor((Date.parse(c.notAfter) - Date.now()) / 86_400_000)
              : undefined;
            const order =
              c.order === undefined
                ? '–'
                : c.order.state === 'failed'
                  ? `failed ${c.order.failures}×: ${c.order.lastError ?? ''}`
                  : 'ok';
            return h(
              'tr',
              {},
              h('th', { scope: 'row' }, c.name),
              h('td', {}, c.issuer || '–'),
              h('td', {}, days === undefined ? '–' : `in ${days} days`),
              h('td', {}, h('span', { class: `badge s-${c.order?.state ?? 'ok'}` }, order)),
            );
          }),
    ),
  );
}

// ---- start

$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  if (token === '') return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  $('signin-error').textContent = '';
  void follow();
});
$('signout').addEventListener('click', () => signOut());
$('logs-close').addEventListener('click', () => {
  $('logs-panel').hidden = true;
});
if (token) void follow();
else $('token').focus();
