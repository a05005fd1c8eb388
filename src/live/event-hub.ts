/**
 * Fan-out of deployment events to the Server-Sent Events streams open on this instance, and
 * the recent events of each deployment kept in memory for streams that start or resume.
 * Fed by the store mirror's change feed, so an event reported to any instance of a fleet
 * reaches browsers connected to every instance.
 */
import type { LiveEvent, LiveEvents } from './live-events.js';

export interface HubEvent {
  readonly project: string;
  readonly deployment: string;
  /** Store revision: the id of project streams. */
  readonly revision: number;
  readonly event: LiveEvent;
}

type Listener = (e: HubEvent) => void;

/** Project-level events kept for `Last-Event-ID` resume of project streams. */
const PROJECT_BACKLOG = 200;
/** Events kept per deployment for building pages (the store keeps the whole log). */
const DEPLOYMENT_BACKLOG = 200;
/** Deployments whose recent events are kept; the least recently active goes first. */
const DEPLOYMENTS_KEPT = 1_000;

export class EventHub implements LiveEvents {
  readonly #byDeployment = new Map<string, Set<Listener>>();
  readonly #byProject = new Map<string, Set<Listener>>();
  readonly #recent = new Map<string, HubEvent[]>();
  readonly #deploymentRecent = new Map<string, LiveEvent[]>();

  publish(e: HubEvent): void {
    if (e.event.type === 'status') {
      let ring = this.#recent.get(e.project);
      if (ring === undefined) this.#recent.set(e.project, (ring = []));
      ring.push(e);
      if (ring.length > PROJECT_BACKLOG) ring.shift();
    }
    this.#keep(`${e.project}/${e.deployment}`, [e.event]);
    for (const l of this.#byDeployment.get(`${e.project}/${e.deployment}`) ?? []) l(e);
    for (const l of this.#byProject.get(e.project) ?? []) l(e);
  }

  /** Events read from the store (at start, for deployments still building). */
  seed(project: string, deployment: string, events: readonly LiveEvent[]): void {
    this.#keep(`${project}/${deployment}`, events);
  }

  recent(project: string, deployment: string, afterSeq: number): readonly LiveEvent[] {
    const ring = this.#deploymentRecent.get(`${project}/${deployment}`);
    return ring === undefined ? [] : ring.filter((e) => e.seq > afterSeq);
  }

  subscribe(project: string, deployment: string, listener: (e: LiveEvent) => void): () => void {
    return this.onDeployment(project, deployment, (e) => listener(e.event));
  }

  /**
   * Status events of a project after `afterRevision`, or undefined when the ring may not
   * reach back that far (the stream then starts with a snapshot instead).
   */
  projectBacklog(project: string, afterRevision: number): HubEvent[] | undefined {
    const ring = this.#recent.get(project);
    const first = ring?.[0];
    if (first === undefined || afterRevision < first.revision) return undefined;
    return ring!.filter((e) => e.revision > afterRevision);
  }

  onDeployment(project: string, deployment: string, listener: Listener): () => void {
    return add(this.#byDeployment, `${project}/${deployment}`, listener);
  }

  onProject(project: string, listener: Listener): () => void {
    return add(this.#byProject, project, listener);
  }

  forgetProject(project: string): void {
    this.#recent.delete(project);
    for (const key of this.#deploymentRecent.keys()) {
      if (key.startsWith(`${project}/`)) this.#deploymentRecent.delete(key);
    }
  }

  /** Merge events into a deployment's ring (in sequence order, no duplicates), bounded. */
  #keep(key: string, events: readonly LiveEvent[]): void {
    let ring = this.#deploymentRecent.get(key);
    if (ring === undefined) {
      ring = [];
      if (this.#deploymentRecent.size >= DEPLOYMENTS_KEPT) {
        const oldest = this.#deploymentRecent.keys().next().value;
        if (oldest !== undefined) this.#deploymentRecent.delete(oldest);
      }
    } else this.#deploymentRecent.delete(key); // re-inserted below: most recently active last
    for (const e of events) {
      const last = ring.at(-1);
      if (last === undefined || e.seq > last.seq) ring.push(e);
      else if (!ring.some((r) => r.seq === e.seq)) {
        ring.push(e);
        ring.sort((a, b) => a.seq - b.seq);
      }
    }
    if (ring.length > DEPLOYMENT_BACKLOG) ring.splice(0, ring.length - DEPLOYMENT_BACKLOG);
    this.#deploymentRecent.set(key, ring);
  }
}

function add(map: Map<string, Set<Listener>>, key: string, listener: Listener): () => void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) map.delete(key);
  };
}
