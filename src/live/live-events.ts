/**
 * Deployment events as the data plane sees them: what a building page follows. The control
 * plane implements this (EventHub, fed by the store's change feed on every instance); the
 * request path reads only memory, never the store.
 */

/** One event of a deployment: `status` ({status, message}) or `log` ({line}). */
export interface LiveEvent {
  /** Sequence number within the deployment (the SSE id). */
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
  /** ISO time it was recorded. */
  readonly at: string;
}

export interface LiveEvents {
  /** The events after `afterSeq` this instance holds in memory (the most recent ones). */
  recent(project: string, deployment: string, afterSeq: number): readonly LiveEvent[];
  /** Calls `listener` with each new event of the deployment; returns the unsubscribe. */
  subscribe(project: string, deployment: string, listener: (e: LiveEvent) => void): () => void;
}
