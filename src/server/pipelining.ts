/**
 * HTTP/1.1 pipelining, one request at a time. Node parses every request a client pipelines
 * at once and hands each to the request path straight away, each with a response that waits
 * its turn in memory: a client that sends a thousand requests and reads nothing would have
 * the apps asked a thousand times and every answer buffered. Here a pipelined request starts
 * only when the responses before it are done — as nginx and HAProxy read the next request
 * only then — and a connection with more than `limits.maxPipelinedRequests` waiting is
 * closed (docs/security.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const WAITING = Symbol('switchyard.pipelinedWaiting');
type CountedSocket = Socket & { [WAITING]?: number };

/**
 * True if `req` came pipelined behind another request still being answered on its
 * connection (its response has no socket yet): `handle` then runs when its turn comes, or,
 * past `max` waiting (0: no limit), the connection is closed and `refused` called once.
 */
export function waitsItsTurn(
  req: IncomingMessage,
  res: ServerResponse,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  max: number,
  refused: () => void,
): boolean {
  // Over HTTP/2 `res.socket` is undefined, never null; over HTTP/1.1 it is null only here.
  if (res.socket !== null || req.httpVersionMajor !== 1) return false;
  const socket = req.socket as CountedSocket;
  const waiting = (socket[WAITING] ?? 0) + 1;
  if (max > 0 && waiting > max) {
    if (!socket.destroyed) {
      refused();
      socket.destroy();
    }
    return true;
  }
  socket[WAITING] = waiting;
  res.once('socket', () => {
    socket[WAITING]! -= 1;
    handle(req, res);
  });
  return true;
}
