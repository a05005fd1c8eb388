/**
 * `switchyard promote | alias | domains | status`: the routing side of the admin API from a
 * terminal (docs/admin-api.md has the endpoints they call).
 */
import type { AdminClient } from './admin-client.js';
import { ClientError } from './admin-client.js';

type Out = (line: string) => void;

interface ProjectView {
  slug: string;
  production: string | null;
  aliases: Record<string, string>;
}

interface DomainView {
  domain: string;
  project: string;
  verified: boolean;
  verificationToken: string;
  publish?: { txt: { name: string; value: string }; cname?: string; a?: string[] };
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** `switchyard promote <project> <deployment>`: point production at a deployment. */
export async function promote(
  client: AdminClient,
  project: string,
  deployment: string,
  out: Out,
): Promise<void> {
  const res = await client.call<ProjectView>('POST', `/v1/projects/${path(project)}/promote`, {
    deployment,
  });
  out(`${project}: production is now ${res.body.production ?? '—'}`);
}

/** `switchyard alias set <project> <name> <deployment>` / `alias rm <project> <name>` / `alias ls <project>`. */
export async function alias(
  client: AdminClient,
  action: string | undefined,
  args: readonly string[],
  out: Out,
): Promise<void> {
  const [project, name, deployment] = args;
  if (action === 'ls' && project !== undefined && args.length === 1) {
    const res = await client.call<ProjectView>('GET', `/v1/projects/${path(project)}`);
    const entries = Object.entries(res.body.aliases);
    if (entries.length === 0) out(`${project} has no aliases`);
    for (const [n, d] of entries) out(`${n}\t→ ${d}`);
    return;
  }
  if (action === 'set' && deployment !== undefined && args.length === 3) {
    await client.call('PUT', `/v1/projects/${path(project!, 'aliases', name!)}`, { deployment });
    out(`${project}: alias ${name} → ${deployment}`);
    return;
  }
  if (action === 'rm' && name !== undefined && args.length === 2) {
    await client.call('DELETE', `/v1/projects/${path(project!, 'aliases', name)}`);
    out(`${project}: alias ${name} removed`);
    return;
  }
  throw new UsageError(
    'expected alias ls <project> | alias set <project> <name> <deployment> | alias rm <project> <name>',
  );
}

/** `switchyard domains add|ls|verify|rm <project> [domain]`. */
export async function domains(
  client: AdminClient,
  action: string | undefined,
  args: readonly string[],
  out: Out,
): Promise<void> {
  const [project, domain] = args;
  if (action === 'ls' && project !== undefined && args.length === 1) {
    const res = await client.call<{ items: DomainView[] }>(
      'GET',
      `/v1/projects/${path(project)}/domains`,
    );
    if (res.body.items.length === 0) out(`${project} has no custom domains`);
    for (const d of res.body.items)
      out(`${d.domain}\t${d.verified ? 'verified' : 'not verified yet'}`);
    return;
  }
  if (domain === undefined || args.length !== 2) {
    throw new UsageError(
      'expected domains ls <project> | domains add|verify|rm <project> <domain>',
    );
  }
  if (action === 'add') {
    const res = await client.call<DomainView>('POST', `/v1/projects/${path(project!)}/domains`, {
      domain,
    });
    const d = res.body;
    out(`${d.domain} attached to ${project}; it routes once verified. Publish:`);
    if (d.publish !== undefined) {
      out(`  TXT   ${d.publish.txt.name}  "${d.publish.txt.value}"`);
      if (d.publish.cname !== undefined) out(`  CNAME ${d.domain}  ${d.publish.cname}`);
      for (const a of d.publish.a ?? []) out(`  A     ${d.domain}  ${a}`);
    }
    out(`then: switchyard domains verify ${project} ${d.domain}`);
  } else if (action === 'verify') {
    const res = await client.call<DomainView | null>(
      'POST',
      `/v1/projects/${path(project!, 'domains', domain)}/verify`,
    );
    const verified = res.body?.verified === true;
    out(
      verified
        ? `${domain} is verified and routes to ${project}`
        : `${domain} is not verified yet: publish TXT _switchyard.${domain} "${res.body?.verificationToken ?? ''}" and try again`,
    );
  } else if (action === 'rm') {
    await client.call('DELETE', `/v1/projects/${path(project!, 'domains', domain)}`);
    out(`${domain} detached from ${project}`);
  } else {
    throw new UsageError(
      'expected domains ls <project> | domains add|verify|rm <project> <domain>',
    );
  }
}

/** `switchyard status`: the instance's health, its store, how many projects it serves, the fleet. */
export async function status(client: AdminClient, out: Out): Promise<boolean> {
  const res = await client.call<{
    status: string;
    projects: number;
    store: { kind: string; connected: boolean; revision: number };
  }>('GET', '/health', undefined, { okStatuses: [503] });
  const h = res.body;
  out(`status:   ${h.status}`);
  out(`projects: ${h.projects}`);
  out(
    `store:    ${h.store.kind}, ${h.store.connected ? 'connected' : 'NOT connected (serving its last routes)'}, revision ${h.store.revision}`,
  );
  // The fleet, as the instances' heartbeats tell it (shown to the platform's own token).
  const board = await client.call<{
    fleet?: {
      id: string;
      hostname: string;
      addresses: string[];
      healthy: boolean;
      draining: boolean;
    }[];
  }>('GET', '/v1/dashboard', undefined, { okStatuses: [401, 403] });
  const fleet = board.body.fleet;
  if (fleet !== undefined) {
    out(`fleet:    ${fleet.filter((f) => f.healthy).length} of ${fleet.length} instances healthy`);
    for (const f of fleet) {
      const state = f.draining ? 'draining' : f.healthy ? 'healthy' : 'DOWN';
      out(`  ${f.id}  ${state}  ${f.addresses.join(', ') || '(no public address)'}`);
    }
  }
  return h.status === 'ok';
}

/** A command line the subcommand cannot use (exit status 2, like other usage errors). */
export class UsageError extends ClientError {}

interface EventView {
  seq: number;
  type: string;
  data: { status?: string; message?: string | null; line?: string };
  at: string;
}

/** Statuses after which a deployment's log grows no more. */
const FINAL = new Set(['ready', 'error', 'canceled']);

/**
 * `switchyard logs <project> [deployment] [--follow]`: a deployment's build log and status
 * changes (the newest deployment when none is named); `--follow` keeps printing until it is
 * ready, failed or canceled.
 */
export async function logs(
  client: AdminClient,
  project: string,
  deployment: string | undefined,
  follow: boolean,
  out: Out,
  pollMs = 500,
): Promise<void> {
  let id = deployment;
  if (id === undefined) {
    const list = await client.call<{ items: { id: string }[] }>(
      'GET',
      `/v1/projects/${path(project)}/deployments?limit=1`,
    );
    id = list.body.items[0]?.id;
    if (id === undefined) throw new ClientError(`project "${project}" has no deployments yet`);
  }
  let after = 0;
  let status: string | undefined;
  for (;;) {
    const page = await client.call<{ items: EventView[] }>(
      'GET',
      `/v1/projects/${path(project, 'deployments', id)}/logs?after=${after}`,
    );
    for (const e of page.body.items) {
      after = e.seq;
      if (e.type === 'log') out(e.data.line ?? '');
      else if (e.type === 'status') {
        status = e.data.status;
        out(`— ${id} is ${status}${e.data.message ? `: ${e.data.message}` : ''}`);
      }
    }
    if (!follow) return;
    if (status === undefined) {
      const current = await client.call<{ status: string }>(
        'GET',
        `/v1/projects/${path(project, 'deployments', id)}`,
      );
      status = current.body.status;
    }
    if (FINAL.has(status)) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
