/** Which stored responses a cache purge removes: those matching every field given. */
export interface PurgeSelector {
  readonly project?: string;
  readonly deployment?: string;
  /** Path and query as the app sees them. */
  readonly url?: string;
  /** A tag from the response's `Cache-Tag` / `Surrogate-Key`. */
  readonly tag?: string;
}
