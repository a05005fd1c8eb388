/** The shape of Node's `SNICallback` option. */
import type { SecureContext } from 'node:tls';

export type SNICallback = (
  serverName: string,
  callback: (err: Error | null, context?: SecureContext) => void,
) => void;
