/**
 * One whole Switchyard instance: the data plane (listener, route table, origins) and the
 * control plane (state store, replica, admin API). `switchyard start` runs one per worker.
 */
import type { LoadedConfig } from '../config/load-config.js';
import { ControlNode } from './control-node.js';
import type { Logger } from '../observability/logger.js';
import { EdgeServer } from '../server/edge-server.js';

export interface Instance {
  readonly sy: EdgeServer;
  readonly control: ControlNode;
  /** Stop the admin API and the store, then drain the data plane. */
  close(graceMs?: number): Promise<void>;
}

export async function startInstance(loaded: LoadedConfig, logger: Logger): Promise<Instance> {
  const sy = await EdgeServer.start(loaded, { logger });
  let control: ControlNode;
  try {
    control = await ControlNode.start(loaded, sy, { logger });
  } catch (err) {
    await sy.close(0, 0);
    throw err;
  }
  sy.markReady(); // the store's projects are in the route table
  return {
    sy,
    control,
    async close(graceMs) {
      await control.drain().catch(() => {});
      const draining = sy.close(graceMs);
      await control.close();
      await draining;
    },
  };
}
