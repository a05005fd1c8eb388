/**
 * Fan-out of deployment events to the Server-Sent Events streams open on this instance.
 * Fed by the replica's change feed, so an event reported to any instance of a fleet reaches
 * browsers connected to every instance.
 */
import type { DeploymentEvent } from '../store/state-store.js';

export interface HubEvent {
  readonly project: string;
  readonly deployment: string;
  /** Store revision: the id of project streams. */
  readonly revision: number;
  readonly event: DeploymentEvent;
}

type Listener = (e: HubEvent) => void;

/** Project-level events kept for `Last-Event-ID` resume of project streams. */
const PROJECT_BACKLOG = 200;

export class EventHub {
  readonly #byDeployment = new Map<string, Set<Listener>>();
  readonly #byProject = new Map<string, Set<Listener>>();
  readonly #recent = new Map<string, HubEvent[]>();

  publish(e: HubEvent): void {
    if (e.event.type === 'status') {
      let ring = this.#recent.get(e.project);
      if (ring === undefined) this.#recent.set(e.project, (ring = []));
      ring.push(e);
      if (ring.length > PROJECT_BACKLOG) ring.shift();
    }
    for (const l of this.#byDeployment.get(`${e.project}/${e.deployment}`) ?? []) l(e);
    for (const l of this.#byProject.get(e.project) ?? []) l(e);
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
