/** Retry an assertion until it passes or `ms` run out (for changes that propagate). */
export async function eventually<T>(check: () => Promise<T> | T, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
