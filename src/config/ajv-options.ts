/**
 * Ajv's code options for every validator Switchyard compiles (configuration, admin bodies,
 * the admin API's Fastify routes).
 *
 * `optimize: false` keeps Ajv's code generator from building one `{ [name]: 1 }` object per
 * generated variable name (`err487`, `_errs79`, `data6` …) while it optimises. Each such
 * object adds a transition to V8's root object map, which holds at most 1,536 of them;
 * compiling the configuration schema alone used to add ~1,150. Once the root map is full,
 * every object built from `{}` or a computed-key literal gets a map of its own until the next
 * full GC, and the functions that built objects meanwhile keep megamorphic inline caches for
 * good: `process.nextTick` measured 4× slower in a started server, and what that cost per
 * request varied between starts (docs/performance.md, "A V8 limit that Ajv reached at
 * start"). Unoptimised validators check the same rules; they run only when a configuration
 * is loaded or an admin request arrives, never per request.
 */
export const AJV_CODE_OPTIONS = { optimize: false } as const;
