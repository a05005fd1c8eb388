/**
 * Two Switchyard instances sharing one real redis-server (on a unix socket) and one sealing
 * key, as an operator runs a fleet. `raw` adds configuration for both.
 */
import { startEdge, type TestEdge } from './edge.js';
import { startRedis, type TestRedis } from './redis.js';
import { sharedKeyFile } from './secret-key.js';

export interface TestFleet {
  readonly redis: TestRedis;
  readonly a: TestEdge;
  readonly b: TestEdge;
  close(): Promise<void>;
}

export async function startFleet(raw: Record<string, unknown> = {}): Promise<TestFleet> {
  const redis = await startRedis();
  const config = {
    demo: false,
    store: redis.storeUrl,
    secrets: { keyFile: sharedKeyFile() },
    ...raw,
  };
  const a = await startEdge(config);
  const b = await startEdge(config);
  return {
    redis,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await redis.close();
    },
  };
}
