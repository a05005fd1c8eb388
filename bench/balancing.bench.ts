/**
 * The cost of each selection policy per request: ns per pick with 4 and 16 replicas, with
 * some requests in flight (as under load). `npm run bench:balancing`; about 10 s.
 */
import { ConsistentHash } from '../src/balancing/consistent-hash.js';
import { LeastOutstanding } from '../src/balancing/least-outstanding.js';
import type { SelectionPolicy, Weighted } from '../src/balancing/policy.js';
import { PowerOfTwo } from '../src/balancing/power-of-two.js';
import { RoundRobin } from '../src/balancing/round-robin.js';

interface R extends Weighted {
  index: number;
  weight: number;
  inFlight: number;
}

const PICKS = 2_000_000;
const keys = Array.from({ length: 4096 }, (_, i) => `session-${i}`);

function measure(policy: SelectionPolicy, replicas: R[], keyed: boolean): number {
  let sink = 0;
  for (let i = 0; i < 200_000; i++)
    sink += policy.pick(replicas, keyed ? keys[i & 4095] : undefined).index; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < PICKS; i++) {
    const r = policy.pick(replicas, keyed ? keys[i & 4095] : undefined);
    r.inFlight = (r.inFlight + 1) & 7; // load that moves
    sink += r.index;
  }
  const ns = Number(process.hrtime.bigint() - start) / PICKS;
  if (sink === -1) console.log(sink);
  return ns;
}

const rows: string[] = [];
for (const n of [4, 16]) {
  const make = () =>
    Array.from({ length: n }, (_, index) => ({ index, weight: 1 + (index % 3), inFlight: 0 }));
  const urls = Array.from({ length: n }, (_, i) => `http://10.0.0.${i}:3000`);
  const policies: [string, SelectionPolicy, boolean][] = [
    ['round-robin', new RoundRobin(), false],
    ['least-outstanding', new LeastOutstanding(), false],
    ['power-of-two', new PowerOfTwo(), false],
    [
      'consistent-hash',
      new ConsistentHash(
        urls,
        make().map((r) => r.weight),
      ),
      true,
    ],
  ];
  for (const [name, policy, keyed] of policies) {
    rows.push(`| ${name} | ${n} | ${measure(policy, make(), keyed).toFixed(0)} |`);
  }
}
console.log(`| policy | replicas | ns per pick |\n| --- | --- | --- |\n${rows.join('\n')}`);
