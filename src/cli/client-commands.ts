/**
 * Client commands for people and build scripts:
 *   switchyard deploy <dir> --project <slug> [--prod] [--id <id>] [--spa]
 *   switchyard projects
 *   switchyard rollback <project>
 */
import { readdir, stat } from 'node:fs/promises';
import { incrementalDeploy } from './incremental-deploy.js';
import type { DeploymentRecord, ProjectRecord } from '../model/records.js';
import type { AdminClient } from './admin-client.js';
import { ClientError } from './admin-client.js';

type Out = (line: string) => void;

interface DeployOptions {
  readonly dir: string;
  readonly project: string;
  readonly prod: boolean;
  readonly id?: string;
  readonly spa: boolean;
  readonly waitMs: number;
}

type DeploymentWithUrls = DeploymentRecord & { urls?: { preview?: string; production?: string[] } };

export async function deploy(client: AdminClient, options: DeployOptions, out: Out): Promise<void> {
  const info = await stat(options.dir).catch(() => undefined);
  if (info?.isDirectory() !== true) throw new ClientError(`${options.dir} is not a directory`);
  if (!(await hasFiles(options.dir))) {
    throw new ClientError(
      `${options.dir} has no files to deploy (is it the build output folder, e.g. dist/ or build/?)`,
    );
  }
  // Create the project on first deploy (needs an admin token; a deploy token skips this).
  await client.call('POST', '/v1/projects', { slug: options.project }).catch((err: unknown) => {
    if (!(err instanceof ClientError) || (err.status !== 403 && err.status !== 409)) throw err;
  });
  out(`uploading ${options.dir} to ${options.project} …`);
  const uploaded = await incrementalDeploy<DeploymentWithUrls>(client, options, out);
  let deployment = uploaded;
  const deadline = Date.now() + options.waitMs;
  while (deployment.status === 'queued' || deployment.status === 'building') {
    if (Date.now() > deadline)
      throw new ClientError(`deployment ${deployment.id} is still ${deployment.status}`);
    await new Promise((r) => setTimeout(r, 500));
    deployment = (
      await client.call<DeploymentWithUrls>(
        'GET',
        `/v1/projects/${options.project}/deployments/${deployment.id}`,
      )
    ).body;
  }
  if (deployment.status !== 'ready') {
    throw new ClientError(
      `deployment ${deployment.id} is ${deployment.status}: ${deployment.message ?? ''}`,
    );
  }
  out(`deployment ${deployment.id} is ready`);
  if (deployment.urls?.preview !== undefined) out(`  preview:    ${deployment.urls.preview}`);
  if (options.prod) {
    await client.call('POST', `/v1/projects/${options.project}/promote`, {
      deployment: deployment.id,
    });
    out(`promoted ${deployment.id} to production`);
  }
  for (const url of deployment.urls?.production ?? []) out(`  production: ${url}`);
}

export async function listProjects(client: AdminClient, out: Out): Promise<void> {
  let after: string | undefined;
  let any = false;
  do {
    const query = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
    const page = await client.call<{ items: ProjectRecord[]; next?: string; declared?: string[] }>(
      'GET',
      `/v1/projects?limit=500${query}`,
    );
    for (const slug of page.body.declared ?? []) {
      any = true;
      out(`${slug}	(configuration file: read-only here)`);
    }
    for (const p of page.body.items) {
      any = true;
      out(
        `${p.slug}\tproduction: ${p.production ?? '—'}${p.history[0] === undefined ? '' : `\tprevious: ${p.history[0]}`}`,
      );
    }
    after = page.body.next;
  } while (after !== undefined);
  if (!any) out('no projects yet: switchyard deploy <dir> --project <name> creates one');
}

export async function rollback(client: AdminClient, project: string, out: Out): Promise<void> {
  const res = await client.call<ProjectRecord>('POST', `/v1/projects/${project}/rollback`);
  out(`${project}: production is now ${res.body.production ?? '—'}`);
}

interface TokenView {
  id: string;
  name: string;
  scope: string;
  createdAt: string;
  projects?: string[];
  expiresAt?: string;
  token?: string;
}

/**
 * `switchyard tokens create --name <n> --scope <read|deploy|admin> [--project <slug>]… [--expires <time>]`,
 * `tokens ls`, `tokens rm <id>`: how a platform mints one token per project for its CI.
 */
export async function tokens(
  client: AdminClient,
  action: string | undefined,
  args: readonly string[],
  flags: { name?: string; scope?: string; projects?: string[]; expires?: string },
  out: Out,
): Promise<void> {
  if (action === 'create') {
    const body = {
      name: flags.name ?? 'token',
      scope: flags.scope ?? 'deploy',
      ...(flags.projects === undefined || flags.projects.length === 0
        ? {}
        : { projects: flags.projects }),
      ...(flags.expires === undefined ? {} : { expiresAt: new Date(flags.expires).toISOString() }),
    };
    const res = await client.call<TokenView>('POST', '/v1/tokens', body);
    const t = res.body;
    out(
      `created ${t.id} (${t.scope}${t.projects === undefined ? ', every project' : `, ${t.projects.join(', ')}`}${t.expiresAt === undefined ? '' : `, until ${t.expiresAt}`})`,
    );
    out(`token (shown once): ${t.token ?? ''}`);
    return;
  }
  if (action === 'ls') {
    const res = await client.call<{ items: TokenView[] }>('GET', '/v1/tokens');
    for (const t of res.body.items) {
      out(`${t.id}\t${t.name}\t${t.scope}\t${t.projects?.join(',') ?? '*'}\t${t.expiresAt ?? '-'}`);
    }
    if (res.body.items.length === 0) out('no tokens yet (the admin token is not listed)');
    return;
  }
  if (action === 'rm' && args.length === 1) {
    await client.call('DELETE', `/v1/tokens/${encodeURIComponent(args[0]!)}`);
    out(`removed ${args[0]!}`);
    return;
  }
  throw new ClientError('expected: tokens create | tokens ls | tokens rm <id>');
}

/** Whether a folder holds at least one file, however deep. */
async function hasFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.some((e) => e.isFile());
}
