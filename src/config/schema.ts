/**
 * The configuration schema: one source for validation, defaults, environment overrides and
 * the generated reference in docs/configuration.md (`npm run docs:config`).
 *
 * Every option carries its default, its unit (in its name: `…Ms`, `…Bytes`) and a description
 * that says what it trades off.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  DEPLOYMENT_STATUSES,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
  POLICY_NAMES,
} from '../model/vocabulary.js';
import { CLIENT_IDENTITY_HEADERS } from '../proxy/forwarded-headers.js';

/** An IPv4 or IPv6 network, `address/bits`. */
const CIDR_PATTERN = '^([0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$';

/** Slugs and deployment ids are DNS-label-like and never contain `--` (model/vocabulary.ts). */
const Name = (description: string) =>
  Type.String({
    pattern: NAME_PATTERN,
    patternHint: 'lower-case letters, digits and single hyphens, starting with a letter or digit',
    minLength: 1,
    maxLength: NAME_MAX_LENGTH,
    description,
  });

export const StaticOriginSchema = Type.Object(
  {
    dir: Type.String({
      minLength: 1,
      description:
        'Directory holding the build output. Relative paths resolve against the configuration file.',
    }),
    spa: Type.Boolean({
      default: false,
      description:
        'Single-page-app fallback: a GET for a missing path that accepts HTML gets `/index.html` (200) instead of a 404.',
    }),
    cleanUrls: Type.Boolean({
      default: true,
      description: 'Serve `/about` from `about.html` when no file `about` exists.',
    }),
  },
  { additionalProperties: false },
);

export const BalancingSchema = Type.Object(
  {
    policy: Type.Union(
      POLICY_NAMES.map((name) => Type.Literal(name)),
      {
        default: 'round-robin',
        description:
          'How a request picks a replica: `round-robin` (smooth, weighted), `least-outstanding` (fewest in flight per weight), `power-of-two` (the less busy of two random ones), `consistent-hash` (sticky by `hashOn`; about 1/N of keys move when a replica comes or goes).',
      },
    ),
    hashOn: Type.String({
      default: 'client-ip',
      pattern:
        "^(client-ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$",
      patternHint: 'client-ip, header:<name> or cookie:<name>',
      description:
        'The affinity key for `consistent-hash`: `client-ip`, `header:<name>` or `cookie:<name>`. Requests without it go round robin.',
    }),
  },
  { additionalProperties: false },
);

export const UpstreamOriginSchema = Type.Object(
  {
    replicas: Type.Array(
      Type.String({
        pattern: '^http://[^/?#@]+$',
        patternHint: 'http://host:port — no path, query or credentials',
        description: 'http://host:port',
      }),
      {
        minItems: 1,
        description:
          'The containers serving this deployment, as `http://host:port`. Requests are spread over them by `balancing`; a replica refusing connections is skipped (nothing reached it, so any request may go on to another).',
      },
    ),
    healthCheckPath: Type.Optional(
      Type.String({
        pattern: '^/',
        patternHint: 'a path starting with /',
        description:
          'Active health check path for this deployment (overrides `upstream.health.checkPath`).',
      }),
    ),
    weights: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), {
        description:
          'Relative share of traffic of each replica, in the order of `replicas` (default: 1 each).',
      }),
    ),
    balancing: Type.Optional(BalancingSchema),
  },
  { additionalProperties: false },
);

export const DeploymentStatusSchema = Type.Union(
  DEPLOYMENT_STATUSES.map((status) => Type.Literal(status)),
  {
    default: 'ready',
    description: 'Only `ready` deployments serve traffic; the others get a status page.',
  },
);

export const DeploymentSchema = Type.Object(
  {
    id: Name('Deployment id, unique within its project; also its preview host `<id>--<slug>`.'),
    status: DeploymentStatusSchema,
    static: Type.Optional(StaticOriginSchema),
    upstream: Type.Optional(UpstreamOriginSchema),
  },
  { additionalProperties: false },
);

export /** A token bucket (docs/security.md, "Rate limits"). */
const rateSchema = (description: string, defaults: { requestsPerSecond: number; burst: number }) =>
  Type.Object(
    {
      requestsPerSecond: Type.Number({
        minimum: 0,
        description: 'Sustained requests per second (0: no limit).',
      }),
      burst: Type.Integer({
        minimum: 1,
        description: 'Requests admitted at once before the rate applies (the bucket size).',
      }),
    },
    { additionalProperties: false, default: defaults, description },
  );

const ProjectSchema = Type.Object(
  {
    slug: Name('Project slug: `/<slug>/` on platform hosts and `<slug>.<domain>`.'),
    production: Type.Optional(
      Type.String({
        description:
          'Id of the deployment that the production alias points at (path, subdomain and custom domains). Defaults to the last deployment listed.',
      }),
    ),
    aliases: Type.Record(
      Type.String({
        pattern: NAME_PATTERN,
        patternHint:
          'lower-case letters, digits and single hyphens, starting with a letter or digit',
      }),
      Type.String(),
      {
        default: {},
        description:
          'Branch aliases: name → deployment id, served at `<name>--<slug>.<domain>` (a deployment id of the same name wins).',
      },
    ),
    domains: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
      default: [],
      description: 'Custom domains served by the production alias (exact host match).',
    }),
    rootPaths: Type.Array(
      Type.String({
        pattern: '^/[^?#]*$',
        patternHint: 'a path starting with / (no query or fragment)',
      }),
      {
        default: [],
        description:
          'Opt-in for apps built for the site root under path routing: requests on a platform host for these path prefixes (e.g. `/assets/`) that name no project go to this project when the request comes from one of its pages (Referer, or the `sy-project` cookie set on its HTML). Empty: off.',
      },
    ),
    httpsRedirect: Type.Boolean({
      default: false,
      description:
        'Redirect plain HTTP requests for this project to HTTPS (308); its HTTPS responses then carry HSTS when `https.hstsMaxAgeSeconds` is set.',
    }),
    maxBodyBytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'This project’s request body limit, instead of `limits.maxBodyBytes`.',
      }),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          perClientIp: Type.Optional(
            rateSchema(
              'This project’s limit per client address, instead of `rateLimit.perClientIp`.',
              {
                requestsPerSecond: 0,
                burst: 1,
              },
            ),
          ),
          perProject: Type.Optional(
            rateSchema(
              'This project’s limit for all its traffic, instead of `rateLimit.perProject`.',
              {
                requestsPerSecond: 0,
                burst: 1,
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description: 'This project’s own rate limits (`requestsPerSecond: 0` lifts one).',
        },
      ),
    ),
    publicBuildLogs: Type.Boolean({
      default: false,
      description:
        'Show build log lines on the public building page (and its event stream). Off: visitors see status and progress only — logs often hold secrets; they stay readable through the admin API and the CLI.',
    }),
    deployments: Type.Array(DeploymentSchema, {
      default: [],
      description: 'The project’s deployments; each has exactly one of `static` or `upstream`.',
    }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    listen: Type.Object(
      {
        host: Type.String({
          default: '0.0.0.0',
          description: 'Address of the HTTP listener. `0.0.0.0` for all IPv4 interfaces.',
        }),
        port: Type.Integer({
          default: 8080,
          minimum: 0,
          maximum: 65535,
          description: 'Port of the HTTP listener; `PORT` overrides it. 0 picks a free port.',
        }),
        proxyProtocol: Type.Boolean({
          default: false,
          description:
            'Behind an L4 load balancer: read the PROXY protocol header (v1 or v2) that peers in `proxy.trustedProxies` must send, and take the client address from it. Others are served as usual and cannot send one.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    platform: Type.Object(
      {
        hosts: Type.Array(Type.String({ minLength: 1 }), {
          default: ['localhost', '127.0.0.1', '[::1]'],
          description: 'Hosts on which `/<slug>/…` path routing and platform endpoints answer.',
        }),
        domains: Type.Array(Type.String({ minLength: 1 }), {
          default: ['localhost'],
          description:
            'Platform domains: `<slug>.<domain>` and preview hosts `<id>--<slug>.<domain>` route to projects.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    upstream: Type.Object(
      {
        connectTimeoutMs: Type.Integer({
          default: 5000,
          minimum: 1,
          description: 'Time to establish a connection to a replica before 504.',
        }),
        headersTimeoutMs: Type.Integer({
          default: 60000,
          minimum: 1,
          description:
            'Time from sending the request to receiving the response headers before 504. Long-polling apps need more.',
        }),
        idleTimeoutMs: Type.Integer({
          default: 60000,
          minimum: 0,
          description:
            'Longest silence between two chunks of a response body before the response is cut. 0 disables it (for event streams without heartbeats).',
        }),
        keepAliveTimeoutMs: Type.Integer({
          default: 4000,
          minimum: 1,
          description:
            'How long an idle pooled connection to a replica is kept. Keep it below the app’s own keep-alive timeout.',
        }),
        connectionsPerReplica: Type.Integer({
          default: 256,
          minimum: 1,
          description:
            'Most concurrent connections to one replica; further requests queue in the pool.',
        }),
        balancing: Type.Object(BalancingSchema.properties, {
          additionalProperties: false,
          default: {},
          description: 'Default load balancing of every deployment; a deployment may override it.',
        }),
        health: Type.Object(
          {
            ejectAfter: Type.Integer({
              default: 5,
              minimum: 0,
              description:
                'Passive health: consecutive failures (connection errors, timeouts, 5xx answers) that eject a replica. 0 turns ejection off.',
            }),
            ejectBaseMs: Type.Integer({
              default: 10_000,
              minimum: 10,
              description:
                'How long a first ejection lasts; it doubles each time the replica fails again after coming back, up to `ejectMaxMs`.',
            }),
            ejectMaxMs: Type.Integer({
              default: 300_000,
              minimum: 10,
              description: 'Longest ejection.',
            }),
            panicPercent: Type.Integer({
              default: 50,
              minimum: 0,
              maximum: 100,
              description:
                'Never leave fewer than this share of a deployment’s replicas in rotation: below it, every replica takes traffic again (better some errors than none served).',
            }),
            slowStartMs: Type.Integer({
              default: 10_000,
              minimum: 0,
              description:
                'A replica coming back (or recovering) ramps from a tenth of its weight to all of it over this time.',
            }),
            checkPath: Type.String({
              default: '',
              description:
                'Active health checks: the path to GET on each replica (e.g. `/healthz`); empty: off. A deployment may set its own (`healthCheckPath`).',
            }),
            checkStatus: Type.String({
              default: '200-399',
              pattern: '^[1-5]\\d\\d(-[1-5]\\d\\d)?(,[1-5]\\d\\d(-[1-5]\\d\\d)?)*$',
              patternHint: 'status codes and ranges such as 500-504,429',
              description:
                'Statuses that pass a check: codes and ranges, e.g. `200-399` or `200,204`.',
            }),
            checkIntervalMs: Type.Integer({
              default: 5_000,
              minimum: 20,
              description: 'Time between checks of a replica.',
            }),
            checkTimeoutMs: Type.Integer({
              default: 2_000,
              minimum: 10,
              description: 'A check that takes longer fails.',
            }),
            healthyAfter: Type.Integer({
              default: 2,
              minimum: 1,
              description:
                'Consecutive passing checks before an unhealthy replica takes traffic again.',
            }),
            unhealthyAfter: Type.Integer({
              default: 3,
              minimum: 1,
              description: 'Consecutive failing checks before a replica is taken out.',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        retries: Type.Object(
          {
            budgetPercent: Type.Integer({
              default: 20,
              minimum: 0,
              maximum: 100,
              description:
                'Retries (on another replica, only where safe) may add at most this share to the requests of the last ten seconds, so retries cannot multiply an outage.',
            }),
            minPerSecond: Type.Integer({
              default: 3,
              minimum: 0,
              description:
                'Retries always allowed per second whatever the budget (quiet deployments).',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
        maxConcurrentPerReplica: Type.Integer({
          default: 0,
          minimum: 0,
          description:
            'Circuit breaking: most requests in flight to one replica; 0 is no limit. Beyond it requests wait in a bounded queue, then get 503 with Retry-After.',
        }),
        queueSize: Type.Integer({
          default: 100,
          minimum: 0,
          description: 'Requests that may wait for a replica under `maxConcurrentPerReplica`.',
        }),
        drainMs: Type.Integer({
          default: 30_000,
          minimum: 0,
          description:
            'When a deployment’s replicas change or it stops serving, how long in-flight requests and WebSockets on the old set may run before they are cut.',
        }),
        queueTimeoutMs: Type.Integer({
          default: 5_000,
          minimum: 1,
          description: 'Longest wait in that queue before 503.',
        }),
        allowedNetworks: Type.Array(
          Type.String({
            pattern: CIDR_PATTERN,
            patternHint: 'an address block such as 10.0.0.0/8 or fd00::/8',
          }),
          {
            default: [],
            description:
              'Replicas registered through the API by a tenant (any token but an unbound admin one) may not point at loopback, link-local (cloud metadata), unspecified or multicast addresses, nor at Switchyard’s own listeners. CIDRs listed here are allowed anyway (e.g. `127.0.0.0/8` on a laptop). Private ranges are allowed by default. The configuration file is trusted and never checked.',
          },
        ),
        deniedNetworks: Type.Array(
          Type.String({
            pattern: CIDR_PATTERN,
            patternHint: 'an address block such as 10.0.0.0/8 or fd00::/8',
          }),
          {
            default: [],
            description:
              'CIDRs tenant replicas may never point at, beside the defaults (e.g. the network of your databases). Checked before `allowedNetworks`.',
          },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    secrets: Type.Object(
      {
        keyFile: Type.String({
          default: '',
          description:
            "The key that seals private keys (certificates, the ACME account) before they enter the state store: 32 random bytes, base64. Empty: `<dataDir>/secret.key`, generated 0600 on first start. `SWITCHYARD_SECRET_KEY` (the key itself) wins over the file. Every instance of a fleet needs the same key; without it a fleet cannot use another instance's certificates.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    proxy: Type.Object(
      {
        trustedProxies: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'Peers (IP or CIDR) whose `X-Forwarded-*`, `Forwarded` and `X-Request-Id` headers are believed. Everyone else’s are replaced.',
        }),
        clientIdentityHeaders: Type.Array(
          Type.String({
            pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
            patternHint: "an HTTP token: letters, digits and !#$%&'*+.^_`|~-",
          }),
          {
            default: [...CLIENT_IDENTITY_HEADERS],
            description:
              'Headers that claim who the client is or what it asked for (`X-Real-IP`, `True-Client-IP`, `X-Original-URL` …): removed from requests of peers that are not `trustedProxies`, so an app that believes them cannot be fooled. `X-Forwarded-*` and `Forwarded` are always rebuilt.',
          },
        ),
        upgradeProtocols: Type.Array(
          Type.String({
            pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z/-]+$",
            patternHint: 'a protocol name such as websocket',
          }),
          {
            default: ['websocket'],
            description:
              'Protocols a client may switch to with `Upgrade` (RFC 9110 §7.8), case-insensitive; the connection becomes a tunnel only once the app answers 101. Anything else gets 400.',
          },
        ),
        allowUnderscoreHeaders: Type.Boolean({
          default: false,
          description:
            'Pass request header names containing `_` to apps. Off (as nginx): `Transfer_Encoding` or `X_Forwarded_For` may be read as their hyphenated twins by some frameworks.',
        }),
        via: Type.String({
          default: 'switchyard',
          pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
          patternHint: "an HTTP token: letters, digits and !#$%&'*+.^_`|~-",
          description: 'Pseudonym added to `Via` (RFC 9110 §7.6.3).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    limits: Type.Object(
      {
        maxHeaderBytes: Type.Integer({
          default: 16384,
          minimum: 1024,
          description: 'Largest request head accepted; larger gets 431.',
        }),
        maxBodyBytes: Type.Integer({
          default: 100 * 1024 * 1024,
          minimum: 0,
          description:
            'Largest request body passed to an app (100 MiB; nginx: 1 MiB, HAProxy and Envoy: none). A larger `Content-Length` gets 413 before anything is sent on; a chunked body is cut with 413 (or the connection closed) once it passes the limit. A project may set its own (`maxBodyBytes`). 0: no limit.',
        }),
        headersTimeoutMs: Type.Integer({
          default: 20000,
          minimum: 100,
          description: 'Time a client has to send its request head (slowloris guard).',
        }),
        maxRequestsPerConnection: Type.Integer({
          default: 1000,
          minimum: 0,
          description:
            'Requests one HTTP/1.1 connection may carry; the last answer says `Connection: close` (nginx `keepalive_requests`: 1000). 0: no limit.',
        }),
        maxPipelinedRequests: Type.Integer({
          default: 100,
          minimum: 0,
          description:
            'HTTP/1.1 requests a client may pipeline on one connection ahead of the answers. A pipelined request is handled only once the ones before it are answered (as nginx and HAProxy do), so no app is asked ahead of the client; a connection with more than this many waiting is closed. 0: no limit.',
        }),
        requestTimeoutMs: Type.Integer({
          default: 300000,
          minimum: 0,
          description:
            'Time a client has to send its whole request, body included. 0 disables it (for very large slow uploads).',
        }),
        keepAliveTimeoutMs: Type.Integer({
          default: 5000,
          minimum: 0,
          description: 'How long an idle client connection is kept open.',
        }),
        bodyIdleTimeoutMs: Type.Integer({
          default: 60000,
          minimum: 100,
          description:
            'Longest pause between two pieces of a request body; a body that stalls longer gets 408 (`SY_BODY_TIMEOUT`) and the connection is closed (nginx `client_body_timeout`: 60 s).',
        }),
        sendTimeoutMs: Type.Integer({
          default: 60000,
          minimum: 0,
          description:
            'Longest a client may go without taking any of a response it is being sent (its receive window closed: over TCP, or one HTTP/2 stream held by flow control); it is then cut off (HTTP/1.1: the connection closed; HTTP/2: the stream reset with CANCEL) and the app response behind it abandoned (nginx `send_timeout`: 60 s). On every listener, the admin API too. Checked every quarter of it, at most every second. A client that keeps taking bytes is kept (over HTTP/2: 64 KiB in this time). 0: none.',
        }),
        maxConnections: Type.Integer({
          default: 10000,
          minimum: 0,
          description:
            'Client connections open at once, all listeners together. Over it, an HTTP connection gets one 503 (`SY_OVER_CAPACITY`) and is closed; an HTTPS one is closed before the handshake. 0: no limit.',
        }),
        maxConnectionsPerIp: Type.Integer({
          default: 256,
          minimum: 0,
          description:
            'Client connections open at once from one address (IPv6: one /64). Over it: 429 (`SY_TOO_MANY_CONNECTIONS`) on HTTP, closed before the handshake on HTTPS. Trusted proxies (`proxy.trustedProxies`) are exempt. 0: no limit.',
        }),
        maxEventStreamsPerIp: Type.Integer({
          default: 16,
          minimum: 0,
          description:
            'Public building-page event streams open at once per client address; more get 429 (`SY_TOO_MANY_STREAMS`). 0: no limit.',
        }),
        tunnelIdleTimeoutMs: Type.Integer({
          default: 300000,
          minimum: 1000,
          description:
            'A WebSocket tunnel with no bytes either way for this long is closed (nginx `proxy_read_timeout`: 60 s; HAProxy `timeout tunnel`, Envoy `idle_timeout`: 1 h). Apps that ping more often than this keep theirs.',
        }),
        http2: Type.Object(
          {
            maxConcurrentStreams: Type.Integer({
              default: 128,
              minimum: 1,
              maximum: 4294967295,
              description:
                'SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2; nginx: 128, Envoy: 2^31−1, HAProxy: 100).',
            }),
            initialWindowSize: Type.Integer({
              default: 65535,
              minimum: 65535,
              maximum: 2147483647,
              description:
                'SETTINGS_INITIAL_WINDOW_SIZE: bytes a client may send on a stream before Switchyard reads them (RFC 9113 §6.9.2; the protocol default).',
            }),
            idleTimeoutMs: Type.Integer({
              default: 75000,
              minimum: 1000,
              description:
                'An HTTP/2 connection with no request open for this long is closed with GOAWAY (nginx `keepalive_timeout`: 75 s).',
            }),
          },
          {
            additionalProperties: false,
            default: {},
            description:
              'HTTP/2 settings sent to clients; the header list size is `maxHeaderBytes`.',
          },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    rateLimit: Type.Object(
      {
        perClientIp: rateSchema(
          'Requests per client address (the trusted client address, `proxy.trustedProxies`; IPv6 per /64). A flood guard: raise it for clients that legitimately send more (a shared NAT, an API client). 0 requests per second: off.',
          { requestsPerSecond: 1000, burst: 2000 },
        ),
        perProject: rateSchema(
          'Requests per project, all clients together (a tenant quota). Off by default; a project may set its own.',
          { requestsPerSecond: 0, burst: 1 },
        ),
        syncIntervalMs: Type.Integer({
          default: 100,
          minimum: 10,
          maximum: 10000,
          description:
            'With a Redis store: how often each instance reconciles its buckets with the fleet. Limits are shared within a bounded overshoot (docs/security.md); requests never wait for Redis.',
        }),
        maxTrackedClients: Type.Integer({
          default: 100000,
          minimum: 100,
          description:
            'Buckets kept in memory; past it, full (idle) buckets are dropped first, then the oldest.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Token-bucket rate limits; over one, 429 (`SY_RATE_LIMITED`) with `Retry-After`, `RateLimit-Policy` and `RateLimit`.',
      },
    ),
    shutdown: Type.Object(
      {
        graceMs: Type.Integer({
          default: 10000,
          minimum: 0,
          description:
            'On SIGTERM/SIGINT: how long in-flight requests and WebSockets may run before connections are closed.',
        }),
        drainMs: Type.Integer({
          default: 0,
          minimum: 0,
          description:
            'On SIGTERM/SIGINT, first this long of answering `/_switchyard/ready` with 503 while serving as usual, so a load balancer stops sending before connections close (set it above the balancer’s check interval × its fall count). 0: close at once.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          [
            Type.Literal('fatal'),
            Type.Literal('error'),
            Type.Literal('warn'),
            Type.Literal('info'),
            Type.Literal('debug'),
            Type.Literal('trace'),
            Type.Literal('silent'),
          ],
          { default: 'info', description: 'Least severe level logged.' },
        ),
        access: Type.Boolean({
          default: true,
          description: 'One JSON access-log line per request, to standard output.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    dataDir: Type.String({
      default: 'switchyard-data',
      minLength: 1,
      description:
        'Directory for the embedded store (`state.db`), uploaded deployments and the generated admin token. Relative paths resolve against the configuration file’s directory (the working directory without one).',
    }),
    store: Type.String({
      default: 'embedded',
      pattern: '^(embedded|rediss?://.+|unix:/.+)$',
      patternHint: 'embedded, a redis:// or rediss:// URL, or unix:/path/to/redis.sock',
      description:
        'Where projects, deployments, aliases and domains live: `embedded` (SQLite in `dataDir`, one machine) or a Redis URL shared by a fleet, `redis://[:password@]host:port[/db][?prefix=sy:]` (or `unix:/path/redis.sock`). Projects in this file are served either way.',
    }),
    admin: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Run the admin API listener.' }),
        host: Type.String({
          default: '127.0.0.1',
          description: 'Address of the admin API listener. Keep it off public interfaces.',
        }),
        port: Type.Integer({
          default: 8081,
          minimum: 0,
          maximum: 65535,
          description: 'Port of the admin API listener. 0 picks a free port.',
        }),
        token: Type.Optional(
          Type.String({
            minLength: 16,
            description:
              'Bearer token with admin scope. Unset: one is generated on first start into `<dataDir>/admin-token` (mode 0600). Further, scoped tokens are created through the API.',
          }),
        ),
        uploadMaxBytes: Type.Integer({
          default: 512 * 1024 * 1024,
          minimum: 1024,
          description: 'Largest `.tar.gz` upload accepted (compressed).',
        }),
        uploadMaxUnpackedBytes: Type.Integer({
          default: 2 * 1024 * 1024 * 1024,
          minimum: 1024,
          description: 'Largest total size of the files in an upload (stops gzip bombs).',
        }),
        uploadMaxEntries: Type.Integer({
          default: 100_000,
          minimum: 1,
          description: 'Most files, directories and links in one upload.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    cache: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description:
            'The HTTP cache (RFC 9111, shared) in front of upstream deployments. Keys start with the deployment id: a promote never serves the old deployment’s objects.',
        }),
        memoryBytes: Type.Integer({
          default: 256 * 1024 * 1024,
          minimum: 0,
          description:
            'Memory for stored responses (bodies and headers); least recently used go first.',
        }),
        maxObjectBytes: Type.Integer({
          default: 8 * 1024 * 1024,
          minimum: 0,
          description: 'Largest response stored; larger ones pass through uncached.',
        }),
        cdnCacheControl: Type.String({
          default: 'CDN-Cache-Control',
          pattern: "^([!#$%&'*+.^_`|~0-9A-Za-z-]+)?$",
          patternHint: 'a header field name, or empty',
          description:
            'The targeted cache-control field this cache obeys (RFC 9213): when a response has it, its directives replace `Cache-Control` and `Expires` for this cache, and it is not passed on to clients (browsers keep following `Cache-Control`). Empty: none.',
        }),
        maxVariantsPerUrl: Type.Integer({
          default: 32,
          minimum: 1,
          description:
            'Variants (by `Vary`) stored for one URL; storing one more drops the least recently stored, so a client cycling a varied header cannot fill the cache with one page (Varnish only warns past 10; nginx keeps one).',
        }),
        diskBytes: Type.Integer({
          default: 0,
          minimum: 0,
          description:
            'Disk for stored responses, in `<dataDir>/cache` (kept across restarts; atomic writes). 0: memory only.',
        }),
        heuristicFreshness: Type.Boolean({
          default: false,
          description:
            'Also store responses without explicit freshness (no `max-age`/`s-maxage`/`Expires`), fresh for 10% of their age since `Last-Modified` (RFC 9111 §4.2.2). Off: only what the app marks cacheable is stored.',
        }),
        lockTimeoutMs: Type.Integer({
          default: 5_000,
          minimum: 0,
          description:
            'Concurrent misses for one object wait this long for the first one’s response before going to the app themselves.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    https: Type.Object(
      {
        enabled: Type.Boolean({
          default: true,
          description: 'Run the HTTPS listener (HTTP/2 and HTTP/1.1, certificates by SNI).',
        }),
        host: Type.String({ default: '0.0.0.0', description: 'Address of the HTTPS listener.' }),
        port: Type.Integer({
          default: 8443,
          minimum: 0,
          maximum: 65535,
          description: 'Port of the HTTPS listener. 0 picks a free port.',
        }),
        sessionTicketRotationHours: Type.Number({
          default: 24,
          minimum: 0.001,
          description:
            'How long one TLS session-ticket key is used. The key is shared by every instance through the store (sealed), so a session made with one instance resumes on another. After a rotation, tickets from the previous key are still accepted (and renewed): a ticket resumes for one to two periods.',
        }),
        proxyProtocol: Type.Boolean({
          default: false,
          description:
            'Read the PROXY protocol header on the HTTPS listener too (before the TLS handshake), as `listen.proxyProtocol`.',
        }),
        wildcard: Type.Boolean({
          default: false,
          description:
            'With `issuer: acme`: one certificate for `<domain>` and `*.<domain>` per platform domain, ordered by DNS-01 through the built-in DNS server (`dns.enabled`, delegated the zone), which then serves every project, preview and alias host with no order of its own. Custom domains keep HTTP-01.',
        }),
        issuer: Type.Union([Type.Literal('local'), Type.Literal('acme')], {
          default: 'local',
          description:
            '`local`: a certificate authority created in `dataDir` issues at once (development; trust `dataDir/ca.pem`). `acme`: certificates from an ACME CA such as Let’s Encrypt (`https.acme`).',
        }),
        acme: Type.Object(
          {
            directory: Type.String({
              default: 'letsencrypt-staging',
              description: 'ACME directory URL, or a preset: `letsencrypt`, `letsencrypt-staging`.',
            }),
            email: Type.Optional(
              Type.String({ description: 'Contact for the ACME account (expiry notices).' }),
            ),
            retries: Type.Integer({
              default: 5,
              minimum: 0,
              maximum: 10,
              description:
                'Retries of one ACME request after a network or server error, 5 s × attempt apart; after that the order fails and backs off (`https.retryBaseMs`).',
            }),
            caFile: Type.Optional(
              Type.String({
                description:
                  'PEM file of CA certificates to trust when talking to the ACME server (a private CA, or Pebble in tests).',
              }),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        renewCheckMs: Type.Integer({
          default: 3_600_000,
          minimum: 100,
          description:
            'How often certificates are checked for renewal (renewed when a third of their lifetime is left).',
        }),
        retryBaseMs: Type.Integer({
          default: 60_000,
          minimum: 10,
          description: 'Back-off after a failed order; doubles per failure, up to a day.',
        }),
        ordersPerProjectPerHour: Type.Integer({
          default: 10,
          minimum: 1,
          description: 'Most certificate orders a project may cause per hour (abuse limit).',
        }),
        hstsMaxAgeSeconds: Type.Integer({
          default: 0,
          minimum: 0,
          description:
            '`Strict-Transport-Security: max-age` on HTTPS responses of projects that redirect to HTTPS. 0: no HSTS.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    domains: Type.Object(
      {
        resolvers: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'DNS servers (`host` or `host:port`) used to verify custom domains. Empty: the system’s.',
        }),
        verifyIntervalMs: Type.Integer({
          default: 60_000,
          minimum: 50,
          description: 'How often unverified custom domains are checked again.',
        }),
        cnameTarget: Type.Optional(
          Type.String({
            description:
              'The host custom domains should CNAME to; shown when a domain is attached and checked (informational). With `dns.enabled` and nothing set: `cname.<first platform domain>`, which the built-in DNS answers with the fleet’s addresses.',
          }),
        ),
        addresses: Type.Array(Type.String(), {
          default: [],
          description:
            'The addresses custom domains should resolve to (A records); shown and checked (informational).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        kind: Type.Union([Type.Literal('local'), Type.Literal('s3')], {
          default: 'local',
          description:
            'Where static build output lives. `local`: the data directory (one machine). `s3`: S3-compatible object storage shared by a fleet (AWS S3, R2, MinIO …), files stored once by SHA-256; each instance keeps a bounded disk cache. See docs/fleet.md.',
        }),
        endpoint: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'Object storage URL, e.g. `http://minio:9000`. Absent: AWS S3 in `storage.region`.',
          }),
        ),
        bucket: Type.String({ default: '', description: 'Bucket (needed with `kind: s3`).' }),
        region: Type.String({ default: 'us-east-1', description: 'Region of the bucket.' }),
        prefix: Type.String({
          default: '',
          description:
            'Key prefix inside the bucket, e.g. `switchyard/` (blobs go under `<prefix>blobs/`).',
        }),
        forcePathStyle: Type.Boolean({
          default: true,
          description:
            'Path-style URLs (`endpoint/bucket/key`), as MinIO and most self-hosted servers need. Off: virtual-host style (`bucket.endpoint/key`).',
        }),
        accessKeyId: Type.Optional(
          Type.String({
            description: 'Access key. Absent: `AWS_ACCESS_KEY_ID` and the AWS SDK’s usual chain.',
          }),
        ),
        secretAccessKey: Type.Optional(
          Type.String({
            description:
              'Secret key. Absent: `AWS_SECRET_ACCESS_KEY` and the AWS SDK’s usual chain.',
          }),
        ),
        cacheBytes: Type.Integer({
          default: 1024 * 1024 * 1024,
          minimum: 1024 * 1024,
          description:
            'With `kind: s3`: most bytes of blobs each instance keeps on its disk (`<dataDir>/blob-cache/`); least recently used out first.',
        }),
        timeoutMs: Type.Integer({
          default: 10_000,
          minimum: 100,
          description:
            'Deadline of one request to object storage; a cold file past it answers 503 with Retry-After.',
        }),
        gcIntervalMs: Type.Integer({
          default: 6 * 3_600_000,
          minimum: 0,
          description:
            'How often unreferenced blobs are deleted (mark and sweep; one instance of a fleet at a time). 0: only when asked (`POST /v1/storage/gc`).',
        }),
        gcGraceMs: Type.Integer({
          default: 24 * 3_600_000,
          minimum: 0,
          description:
            'Blobs stored less than this long ago are kept even when nothing names them (a deploy in progress has uploaded them but not yet created its deployment).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    fleet: Type.Object(
      {
        heartbeatMs: Type.Integer({
          default: 2000,
          minimum: 50,
          description:
            'How often an instance writes its heartbeat to the store: its addresses (`dns.addresses`) and traffic counters, for DNS answers and the dashboard’s fleet view. One not heard from for three intervals counts as gone; a draining one leaves at once.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    dns: Type.Object(
      {
        enabled: Type.Boolean({
          default: false,
          description:
            'Answer DNS for the platform zones (`platform.domains`) as their authoritative server: SOA and NS, A/AAAA for the apex and every name below it with the addresses of the fleet’s healthy instances, TXT for pending ACME DNS-01 challenges. Names outside the zones are REFUSED. See docs/dns.md.',
        }),
        host: Type.String({
          default: '0.0.0.0',
          description: 'Address of the DNS listener (UDP and TCP).',
        }),
        port: Type.Integer({
          default: 53,
          minimum: 0,
          maximum: 65535,
          description: 'Port of the DNS listener, UDP and TCP. 0 picks a free port (tests).',
        }),
        ttlSeconds: Type.Integer({
          default: 60,
          minimum: 1,
          maximum: 86_400,
          description:
            'TTL of A/AAAA, NS and SOA answers: how long resolvers may keep sending clients to an instance that has left.',
        }),
        negativeTtlSeconds: Type.Integer({
          default: 60,
          minimum: 1,
          maximum: 86_400,
          description:
            'How long resolvers may remember that a name or record does not exist (SOA minimum).',
        }),
        addresses: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'This instance’s public addresses, announced to the fleet and answered for the zones. Empty: the addresses of its network interfaces (not loopback, not link-local).',
        }),
        nameservers: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'Names of the zones’ name servers (NS records; give the registrar the same). Empty: `ns1.<zone>` and `ns2.<zone>`, answered with the fleet’s addresses (glue).',
        }),
        maxTcpConnections: Type.Integer({
          default: 256,
          minimum: 1,
          description: 'Most DNS-over-TCP connections at once.',
        }),
        tcpIdleTimeoutMs: Type.Integer({
          default: 10_000,
          minimum: 100,
          description: 'A DNS-over-TCP connection quiet this long is closed.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    workers: Type.Integer({
      default: 1,
      minimum: 0,
      maximum: 256,
      description:
        'Processes serving traffic. Above 1, a supervising process forks that many workers sharing the listeners (multi-core); 0 means one per CPU core. Each worker holds its own connection pools and caches.',
    }),
    demo: Type.Boolean({
      default: false,
      description:
        'Serve the demo project `hello` shipped with Switchyard. On when Switchyard starts with no configuration file.',
    }),
    projects: Type.Array(ProjectSchema, {
      default: [],
      description: 'Projects declared in the file (GitOps style). Re-read on SIGHUP and on change.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ProjectConfig = Static<typeof ProjectSchema>;
export type DeploymentConfig = Static<typeof DeploymentSchema>;
