/**
 * Keeps the shape of `process.nextTick`'s queue entries alive for the life of the process.
 *
 * `nextTick` builds each entry as an object literal with two computed (symbol) keys. V8 holds
 * the maps such a literal goes through only as weak transitions, so a full garbage collection
 * at a moment when no entry is pending frees them, and the next entry is built on new maps.
 * After a few such collections (a starting Switchyard has several) the inline caches of the
 * literal's property definitions are megamorphic for good. Node's HTTP server and streams call
 * `nextTick` about seven times per proxied response; measured in a started instance under load
 * (200,000 calls timed on a signal), each call took 450 ns instead of 90 ns, about 2 µs per
 * request (docs/performance.md, "nextTick's object shapes").
 *
 * Holding one entry of each kind (with and without arguments) keeps their maps, so every later
 * entry shares them and the caches stay monomorphic. The entries are captured by an
 * `async_hooks` init hook that is enabled only around two `nextTick` calls: after that, no hook
 * runs per tick. Call it before the modules load (bin/switchyard.js does), since the caches go
 * megamorphic early and never recover.
 */
import { createHook } from 'node:async_hooks';

const held: object[] = [];

function noop(): void {}

/** Capture a `nextTick` entry with no arguments and one with one; idempotent. */
export function keepTickObjectShapes(): void {
  if (held.length > 0) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') held.push(resource);
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
    process.nextTick(noop, undefined);
  } finally {
    hook.disable();
  }
}

/** How many entries are held (for the test). */
export function heldTickObjects(): number {
  return held.length;
}
