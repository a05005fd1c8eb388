/**
 * An origin serves a deployment's requests: a directory of build output (static) or the
 * deployment's containers (upstream). One instance per deployment, shared by every route
 * table that refers to it, closed when no table does any more.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestContext } from '../request/request-context.js';

export interface Origin {
  readonly kind: 'static' | 'upstream';
  /** Answer the request. Never throws: failures become an error page via the error renderer. */
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void;
  /** Take over an `Upgrade` request (WebSocket). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void;
  /** Let in-flight work finish, then release connections. */
  close(): Promise<void>;
}
