/**
 * Turns off V8's allocation-site pretenuring for the life of the process.
 *
 * V8 watches how many objects from each object or array literal survive a young-generation
 * collection; above 85 % it allocates that literal's objects straight in the old generation
 * from then on, and the decision stays. A starting instance's young generation is 1–2 MB, so
 * the first burst of requests (a load balancer's checks, a benchmark's warm-up, the first
 * HTTP/2 connections with many streams open) makes nearly every per-request literal "survive":
 * measured under `h2load -c16 -m10`, two literals allocated once per HTTP/2 request were
 * tenured during warm-up and stayed so. Their objects, dead a few milliseconds later, sit in
 * the old generation until the next full collection, and every young object they point to
 * survives each scavenge in between (old-to-new references are roots): 5 MB survived each
 * scavenge and 85 % of it was promoted, scavenges took 12 ms instead of 2.5, and HTTP/2
 * requests cost about 5 µs more CPU each (docs/performance.md, "Pretenured per-request
 * objects"). An edge's per-request objects live for one request; none is worth pretenuring.
 *
 * The flag is read when V8 processes its pretenuring feedback (at each scavenge), so setting
 * it at run time works; bin/switchyard.js calls this before anything else loads, in the
 * primary and in each worker of multi-core mode.
 */
import { setFlagsFromString } from 'node:v8';

/** Stop V8 from pretenuring allocation sites; idempotent. */
export function turnOffPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
