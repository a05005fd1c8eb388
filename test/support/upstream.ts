/** Real upstream apps for tests: node:http servers on port 0. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestUpstream {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** Requests seen, in order. */
  readonly requests: IncomingMessage[];
  /** Sockets currently open to this upstream. */
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok'),
): Promise<TestUpstream> {
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    sockets,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Ports on which nothing listens on this machine: unassigned ones below 1024, outside the
 * ephemeral range that port-0 listeners (other tests running beside this one) are given, so
 * no other test can start listening there between this call and the request. A port that
 * was bound and released could be handed to another test's server at once.
 */
const UNUSED_LOW_PORTS = [4, 6, 8, 10, 12, 14, 16, 26, 28, 30, 32, 34, 36, 40, 44, 46, 48];
let nextUnused = 0;

/** A loopback port that refuses connections, distinct on each call (within a test file). */
export function closedPort(): Promise<number> {
  const port = UNUSED_LOW_PORTS[nextUnused++ % UNUSED_LOW_PORTS.length]!;
  return Promise.resolve(port);
}
