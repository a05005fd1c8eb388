#!/usr/bin/env node
// Runs the test suite: every test/**/*.test.ts (or the files and folders given) with node's
// test runner, TypeScript loaded by tsx. With SWITCHYARD_REQUIRE_BINARIES=1 (CI sets it), a
// test that needs a missing binary (redis-server, pebble, chromium …) fails instead of skipping.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) out.push(path);
  return out;
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : ['test']).flatMap((p) => collect(p, []));
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
