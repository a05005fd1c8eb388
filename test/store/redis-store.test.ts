import { after, before, describe } from 'node:test';
import { RedisStore } from '../../src/store/redis-store.js';
import { needsBinary } from '../support/binaries.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { storeContract } from './contract.js';

describe('redis store', needsBinary('redis-server'), () => {
  let redis: TestRedis;
  let n = 0;
  const prefixes = new WeakMap<object, string>();
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.close();
  });

  storeContract('redis', {
    async open() {
      const prefix = `t${n++}:`;
      const store = await RedisStore.connect({ url: redis.socket, prefix });
      prefixes.set(store, prefix);
      return store;
    },
    openPeer(store) {
      return RedisStore.connect({ url: redis.socket, prefix: prefixes.get(store)! });
    },
  });
});
