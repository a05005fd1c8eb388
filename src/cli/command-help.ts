/** `switchyard <command> --help`: each command's arguments and every flag it reads. */
const CLIENT_FLAGS = `
Connection (every client command):
  --admin-url <url>   Admin API (default: $SWITCHYARD_ADMIN_URL, else http://127.0.0.1:8081).
  --token <token>     Bearer token (default: $SWITCHYARD_TOKEN, else the admin-token file in
                      ./switchyard-data or $SWITCHYARD_DATA_DIR).
`;

export const COMMAND_HELP: Record<string, string> = {
  start: `Usage: switchyard [start] [--config <file>]

Serve. Without a configuration file: the demo project "hello" on port 8080 (PORT overrides)
and the admin API on 127.0.0.1:8081.

  -c, --config <file>  YAML configuration (default: $SWITCHYARD_CONFIG, else none). Re-read on
                       change and on SIGHUP; a bad edit is refused and the old table stays.
Every option can also be set from the environment: see docs/configuration.md.
`,
  deploy: `Usage: switchyard deploy <dir> --project <slug> [--prod] [--id <id>] [--spa]

Upload a static build folder as a new deployment (the project is created if it does not
exist and the token may), wait until it is ready and print its URLs.

  -p, --project <slug>  The project (required).
  --prod                Promote it to production once ready.
  --id <id>             The deployment's id (default: generated). Ids are lower-case letters,
                        digits and single hyphens; preview URLs are <id>--<project>.<domain>.
  --spa                 A single-page app: paths that are no file get index.html.
${CLIENT_FLAGS}`,
  projects: `Usage: switchyard projects

List the projects in the store with their production and previous deployments.
${CLIENT_FLAGS}`,
  rollback: `Usage: switchyard rollback <project>

Point production back at the deployment it pointed at before.
${CLIENT_FLAGS}`,
  promote: `Usage: switchyard promote <project> <deployment>

Point production at a ready deployment (instant: the next request is served by it).
${CLIENT_FLAGS}`,
  alias: `Usage: switchyard alias ls <project>
       switchyard alias set <project> <name> <deployment>
       switchyard alias rm <project> <name>

Branch aliases: <name>--<project>.<domain> serves the deployment the alias points at.
${CLIENT_FLAGS}`,
  domains: `Usage: switchyard domains ls <project>
       switchyard domains add <project> <domain>
       switchyard domains verify <project> <domain>
       switchyard domains rm <project> <domain>

Custom domains. "add" prints the TXT record that proves the domain (and the CNAME or A
records that point it here); it routes, and gets a certificate, once verified. "verify"
checks the TXT record now (it is also checked on a schedule).
${CLIENT_FLAGS}`,
  tokens: `Usage: switchyard tokens create --name <n> --scope read|deploy|admin [--project <slug>]… [--expires <time>]
       switchyard tokens ls
       switchyard tokens rm <id>

API tokens. "create" prints the secret once. A token bound with --project (repeatable)
reaches only those projects; --expires takes any date Date.parse reads (2027-01-31).
${CLIENT_FLAGS}`,
  logs: `Usage: switchyard logs <project> [deployment] [--follow]

A deployment's build log lines and status changes, oldest first — the newest deployment of
the project unless one is named.

  -f, --follow   Keep printing as the build server reports, until the deployment is ready,
                 failed or canceled.
${CLIENT_FLAGS}`,
  status: `Usage: switchyard status

The instance's health: ok, degraded (store unreachable: serving its last routes) or closing;
the projects it serves; the store and its revision; with the platform's admin token, every
instance of the fleet (healthy, draining or down, from their heartbeats). Exit status 1 when
not ok.
${CLIENT_FLAGS}`,
};
