/**
 * The `switchyard` command line: `start` (the default), `--help`, `--version`.
 * Exit codes: 0 after a clean shutdown, 2 for a bad command line or configuration, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { VERSION } from '../package-info.js';
import { start } from '../app/start.js';
import { AdminClient, ClientError, clientSettings } from './admin-client.js';
import { deploy, listProjects, rollback, tokens } from './client-commands.js';
import { alias, domains, logs, promote, status, UsageError } from './routing-commands.js';
import { COMMAND_HELP } from './command-help.js';

const CLIENT_COMMANDS = new Set([
  'deploy',
  'projects',
  'rollback',
  'promote',
  'alias',
  'domains',
  'tokens',
  'status',
  'logs',
]);

interface ClientFlags {
  'admin-url'?: string;
  token?: string;
  project?: string;
  prod?: boolean;
  id?: string;
  spa?: boolean;
  follow?: boolean;
  name?: string;
  scope?: string;
  expires?: string;
  /** Every --project given (tokens create binds to each). */
  projects?: string[];
}

async function runClient(command: string, args: string[], flags: ClientFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const usage = (message: string) => {
    process.stderr.write(`switchyard ${command}: ${message}\n\n${USAGE}`);
    return 2;
  };
  try {
    const client = new AdminClient(
      clientSettings({ adminUrl: flags['admin-url'], token: flags.token }, process.env),
    );
    if (command === 'deploy') {
      const [dir] = args;
      if (dir === undefined || args.length > 1) return usage('expected one directory');
      if (flags.project === undefined) return usage('--project is required');
      await deploy(
        client,
        {
          dir,
          project: flags.project,
          prod: flags.prod === true,
          spa: flags.spa === true,
          waitMs: 10 * 60_000,
          ...(flags.id === undefined ? {} : { id: flags.id }),
        },
        out,
      );
    } else if (command === 'tokens') {
      const [action, ...rest] = args;
      await tokens(client, action, rest, flags, out);
    } else if (command === 'projects') {
      if (args.length > 0) return usage('takes no arguments');
      await listProjects(client, out);
    } else if (command === 'promote') {
      const [project, deployment] = args;
      if (deployment === undefined || args.length > 2)
        return usage('expected <project> <deployment>');
      await promote(client, project!, deployment, out);
    } else if (command === 'alias') {
      const [action, ...rest] = args;
      await alias(client, action, rest, out);
    } else if (command === 'domains') {
      const [action, ...rest] = args;
      await domains(client, action, rest, out);
    } else if (command === 'logs') {
      const [project, deployment] = args;
      if (project === undefined || args.length > 2) return usage('expected <project> [deployment]');
      await logs(client, project, deployment, flags.follow === true, out);
    } else if (command === 'status') {
      if (args.length > 0) return usage('takes no arguments');
      return (await status(client, out)) ? 0 : 1;
    } else {
      const [project] = args;
      if (project === undefined || args.length > 1) return usage('expected one project');
      await rollback(client, project, out);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    if (err instanceof ClientError) {
      process.stderr.write(`switchyard ${command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export const USAGE = `Usage: switchyard [start] [--config <file>]
       switchyard deploy <dir> --project <slug> [--prod] [--id <id>] [--spa]
       switchyard projects
       switchyard rollback <project>
       switchyard promote <project> <deployment>
       switchyard alias ls <project> | alias set <project> <name> <deployment> | alias rm <project> <name>
       switchyard domains ls <project> | domains add|verify|rm <project> <domain>
       switchyard logs <project> [deployment] [--follow]
       switchyard status
       switchyard tokens create --name <n> --scope read|deploy|admin [--project <slug>]… [--expires <time>]
       switchyard tokens ls | tokens rm <id>
       switchyard --help | --version

Commands:
  start              Serve (the default). Without a configuration file, serves the demo
                     project "hello" on port 8080 (PORT overrides) and the admin API on
                     127.0.0.1:8081.
  deploy <dir>       Upload a static build directory as a new deployment of a project
                     (created if needed), wait until it is ready, print its URLs; with
                     --prod, promote it to production.
  projects           List the projects and their production deployments.
  rollback <project> Point production back at the previous deployment.
  promote            Point production at a deployment.
  alias              Branch aliases: <name>--<project>.<domain> follows a deployment.
  domains            Custom domains: attach (prints the DNS records to publish), list,
                     verify now, detach.
  logs               A deployment's build log and status changes (the newest deployment
                     unless named); --follow until it is ready, failed or canceled.
  status             The instance's health, its store and the projects it serves (exit
                     1 when not ok).
  tokens             Create API tokens (bound to the projects named with --project, and
                     expiring at --expires when given; the secret is printed once), list
                     them, remove one. A platform gives each project's CI its own.

Options:
  -c, --config <file>  YAML configuration file (default: $SWITCHYARD_CONFIG, else none).
                       Re-read on change and on SIGHUP; a bad edit is refused and logged.
  --admin-url <url>    Admin API for the client commands (default: $SWITCHYARD_ADMIN_URL,
                       else http://127.0.0.1:8081).
  --token <token>      Bearer token (default: $SWITCHYARD_TOKEN, else the admin-token
                       file in ./switchyard-data or $SWITCHYARD_DATA_DIR).
  -h, --help           Show this help; "switchyard <command> --help" for one command.
  -v, --version        Print the version.

Every option can also be set from the environment: see docs/configuration.md.
`;

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'admin-url': { type: 'string' },
        token: { type: 'string' },
        project: { type: 'string', short: 'p', multiple: true },
        name: { type: 'string' },
        scope: { type: 'string' },
        expires: { type: 'string' },
        prod: { type: 'boolean' },
        id: { type: 'string' },
        spa: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    process.stderr.write(`switchyard: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version === true) {
    // The runtime too: how a user checks which Node.js (and OpenSSL) serves their traffic.
    const { node, openssl } = process.versions;
    process.stdout.write(
      `switchyard ${VERSION} (Node.js ${node} ${process.release.lts ?? ''}, OpenSSL ${openssl}, ${process.execPath})\n`,
    );
    return 0;
  }
  const [command = 'start', ...rest] = positionals;
  if (values.help === true || (rest[0] === 'help' && COMMAND_HELP[command] !== undefined)) {
    // `switchyard --help`: everything; `switchyard deploy --help`: that command.
    process.stdout.write(positionals.length === 0 ? USAGE : (COMMAND_HELP[command] ?? USAGE));
    return 0;
  }
  if (CLIENT_COMMANDS.has(command)) {
    const { project, ...others } = values;
    return runClient(command, rest, {
      ...others,
      ...(project === undefined ? {} : { project: project.at(-1), projects: project }),
    });
  }
  if (command !== 'start' || rest.length > 0) {
    process.stderr.write(
      `switchyard: unknown command "${[command, ...rest].join(' ')}"\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    return await start({ file: values.config ?? process.env.SWITCHYARD_CONFIG, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`switchyard: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
