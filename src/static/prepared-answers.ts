/**
 * The static origin's fast path: once a small file has been answered in full (200, GET),
 * its headers are kept beside its cached lookup, so the next plain GET for it is answered
 * without awaiting anything, formatting a date or looking up a content type — like nginx's
 * `open_file_cache` keeping what it learned about a file.
 *
 * An answer belongs to one lookup (`Found`): when a mutable directory's lookup is renewed
 * (file-cache.ts, every second), it is a new object and its answers are built again; the
 * body is read from the shared body cache by its key (file, size, mtime), so a changed file
 * is never answered with old bytes, and memory stays within that cache's budget.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { acceptedEncodings, type Encoding } from '../http/accept-encoding.js';
import type { FieldBlock } from '../http/response-head.js';
import type { Found } from './file-cache.js';

export interface PreparedAnswer {
  /** Every header but those decorateResponseHeaders adds per request; copied before use. */
  readonly headers: Readonly<OutgoingHttpHeaders>;
  /** The same without Content-Length, checked and joined once (undefined: one did not pass). */
  readonly block: FieldBlock | undefined;
  /** The body's key in the body cache. */
  readonly bodyKey: string;
}

interface FileAnswers {
  /** Which precompressed siblings exist (empty: no negotiation, no Vary). */
  readonly variants: readonly Encoding[];
  identity?: PreparedAnswer;
  br?: PreparedAnswer;
  gzip?: PreparedAnswer;
}

export class PreparedAnswers {
  readonly #byFile = new WeakMap<Found, FileAnswers>();

  /** Keep the answer for `found` as sent with `encoding` (undefined: identity). */
  remember(
    found: Found,
    variants: readonly Encoding[],
    encoding: Encoding | undefined,
    answer: PreparedAnswer,
  ): void {
    let answers = this.#byFile.get(found);
    if (answers === undefined) {
      answers = { variants };
      this.#byFile.set(found, answers);
    }
    answers[encoding ?? 'identity'] = answer;
  }

  /** The answer for `found` to a client sending this Accept-Encoding, if one is prepared. */
  find(found: Found, acceptEncoding: string | undefined): PreparedAnswer | undefined {
    const answers = this.#byFile.get(found);
    if (answers === undefined) return undefined;
    if (answers.variants.length === 0) return answers.identity;
    // The same choice as the full path: the client's best encoding that has a sibling.
    for (const enc of acceptedEncodings(acceptEncoding)) {
      if (answers.variants.includes(enc)) return answers[enc];
    }
    return answers.identity;
  }
}
