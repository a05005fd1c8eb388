/** Build a policy by name (the configuration's `balancing.policy`). */
import { ConsistentHash } from './consistent-hash.js';
import { LeastOutstanding } from './least-outstanding.js';
import type { PolicyName, SelectionPolicy } from './policy.js';
import { PowerOfTwo } from './power-of-two.js';
import { RoundRobin } from './round-robin.js';

export function createPolicy(
  name: PolicyName,
  replicas: readonly { readonly url: string; readonly weight: number }[],
): SelectionPolicy {
  switch (name) {
    case 'round-robin':
      return new RoundRobin();
    case 'least-outstanding':
      return new LeastOutstanding();
    case 'power-of-two':
      return new PowerOfTwo();
    case 'consistent-hash':
      return new ConsistentHash(
        replicas.map((r) => r.url),
        replicas.map((r) => r.weight),
      );
  }
}
