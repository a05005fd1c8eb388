/**
 * `Upgrade` requests (WebSocket, RFC 6455 §4.1): the handshake is forwarded to a replica with
 * the usual forwarding fields, and from then on bytes flow both ways untouched — frames,
 * fragments, pings and close codes are the two ends' business — but only once the app
 * has answered 101 (upgrade-response.ts); any other answer is relayed as a response and the
 * connection closed. Back-pressure comes from
 * pipe(); either side closing closes the other. A tunnel counts as load on its replica (the
 * same `UpstreamAttempt` as a request) until it closes.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { upstreamRequestHeaders, type ForwardingOptions } from '../proxy/forwarded-headers.js';
import { writeErrorToSocket } from '../request/error-renderer.js';
import { SwitchyardError } from '../model/errors.js';
import type { Logger } from '../observability/logger.js';
import { logTunnel } from '../request/access-log.js';
import type { RequestContext } from '../request/request-context.js';
import { toClientError } from './upstream-errors.js';
import { readUpgradeHead, relayOrdinaryResponse } from './upgrade-response.js';
import type { UpstreamAttempt } from './upstream-attempt.js';

function requestHead(
  req: IncomingMessage,
  ctx: RequestContext,
  forwarding: ForwardingOptions,
): string {
  const headers = upstreamRequestHeaders(req, ctx, forwarding);
  let head = `${req.method ?? 'GET'} ${ctx.path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

export function tunnelUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  ctx: RequestContext,
  attempt: UpstreamAttempt,
  options: {
    forwarding: ForwardingOptions;
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    /** Quiet both ways this long: closed (0: never). */
    idleTimeoutMs: number;
    accessLog: Logger | undefined;
  },
): void {
  const requestText = requestHead(req, ctx, options.forwarding);

  const tryReplica = (): void => {
    const replica = attempt.next();
    if (replica === undefined) {
      writeErrorToSocket(
        client,
        ctx,
        new SwitchyardError('SY_UPSTREAM_BUSY', 'every replica of this deployment is at its limit'),
      );
      return;
    }
    ctx.upstream = replica.url;
    const upstream: Socket = connect({ host: replica.host, port: replica.port });
    let connected = false;
    let over = false;
    /** This attempt no longer counts as load (once, whichever way it ends). */
    const finish = () => {
      if (over) return;
      over = true;
      attempt.done();
    };
    const timer = setTimeout(() => {
      upstream.destroy(
        Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      );
    }, options.connectTimeoutMs);
    const onClientGone = () => upstream.destroy();
    client.once('close', onClientGone);

    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      attempt.report(true);
      upstream.setNoDelay(true);
      upstream.write(requestText);
      // Nothing the client sent after its request goes on until the app agreed (101).
      readUpgradeHead(upstream, options.headersTimeoutMs).then(
        (answer) => {
          if (answer.status !== 101) {
            relayOrdinaryResponse(answer, upstream, client, options.headersTimeoutMs);
            return;
          }
          client.write(answer.head);
          if (answer.rest.length > 0) client.write(answer.rest);
          watchTunnel(req, client, upstream, ctx, options);
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
          upstream.resume();
        },
        () => {
          writeErrorToSocket(
            client,
            ctx,
            new SwitchyardError('SY_UPSTREAM_BROKEN', 'the app did not answer the upgrade'),
          );
          upstream.destroy();
        },
      );
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (connected) {
        client.destroy();
        return;
      }
      client.off('close', onClientGone);
      attempt.report(false);
      finish();
      // The handshake never reached the app when the connection failed: retryable.
      if (!client.destroyed && attempt.mayRetry(err, false)) {
        tryReplica();
        return;
      }
      writeErrorToSocket(client, ctx, toClientError(err, replica.url));
    });
    upstream.once('close', () => {
      clearTimeout(timer);
      finish(); // the tunnel (or a connect the client gave up on) is over
      if (connected) client.destroy();
    });
  };

  client.on('error', () => client.destroy());
  tryReplica();
}

/**
 * An open tunnel: closed after `idleTimeoutMs` with no byte either way (every byte crosses
 * the client socket, so its timer sees both directions), and logged when it ends.
 */
function watchTunnel(
  req: IncomingMessage,
  client: Duplex,
  upstream: Socket,
  ctx: RequestContext,
  options: { idleTimeoutMs: number; accessLog: Logger | undefined },
): void {
  let closedBy = 'error';
  const inAtStart = upstream.bytesWritten;
  const outAtStart = upstream.bytesRead;
  client.once('end', () => (closedBy = 'client'));
  upstream.once('end', () => (closedBy = 'app'));
  const socket = client as Socket;
  if (options.idleTimeoutMs > 0 && typeof socket.setTimeout === 'function') {
    socket.setTimeout(options.idleTimeoutMs, () => {
      closedBy = 'idle';
      client.destroy();
      upstream.destroy();
    });
  }
  const log = options.accessLog;
  if (log === undefined) return;
  upstream.once('close', () =>
    logTunnel(log, req, ctx, {
      bytesIn: upstream.bytesWritten - inAtStart,
      bytesOut: upstream.bytesRead - outAtStart,
      closedBy,
    }),
  );
}
