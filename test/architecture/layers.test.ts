/**
 * The shape of src/: the dependency direction is enforced by lint (eslint.config.js LAYERS),
 * and no file grows past what one reader can hold (STYLE.md: ~400 lines).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Declarative schemas may run longer: they are read as tables, not as logic. */
const SCHEMAS = new Set(['src/config/schema.ts']);
const MAX_LINES = 450;

describe('architecture', () => {
  it('fails lint on an import against the direction of dependencies', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (file: string, text: string) => {
      const [result] = await eslint.lintText(text, { filePath: join(ROOT, file) });
      return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
    };
    // The request layer reaching up into the admin API, the data plane into the store,
    // control into admin: each is refused with the rule that says why.
    const upward = [
      ['src/request/request-context.ts', "import '../admin/admin-server.js';\n"],
      ['src/server/request-handler.ts', "import '../store/state-store.js';\n"],
      ['src/control/projects.ts', "import '../admin/admin-server.js';\n"],
      ['src/upstream/proxy-exchange.ts', "import '../server/edge-server.js';\n"],
      ['src/admin/admin-server.ts', "import '../store/state-store.js';\n"],
    ] as const;
    for (const [file, text] of upward) {
      const messages = await lint(file, text);
      assert.equal(messages.length, 1, `${file}: ${text.trim()} must be refused`);
      assert.match(messages[0]!.message, /may not import/);
    }
    // The allowed direction passes.
    assert.deepEqual(
      await lint('src/server/request-handler.ts', "import '../request/request-context.js';\n"),
      [],
    );
    assert.deepEqual(await lint('src/app/instance.ts', "import '../store/state-store.js';\n"), []);
  });

  it(`keeps every file in src/ under ${MAX_LINES} lines (declarative schemas aside)`, () => {
    const long = files(SRC)
      .map((path) => ({
        path: relative(ROOT, path),
        lines: readFileSync(path, 'utf8').split('\n').length,
      }))
      .filter((f) => f.lines > MAX_LINES && !SCHEMAS.has(f.path));
    assert.deepEqual(long, []);
  });
});
