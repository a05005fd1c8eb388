/** The systemd unit in contrib/ is valid as shipped (`systemd-analyze verify`). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { findBinary, needsBinary } from '../support/binaries.js';
import { BIN } from '../support/cli.js';

const run = promisify(execFile);

describe('contrib/systemd/switchyard.service', needsBinary('systemd-analyze'), () => {
  it('passes systemd-analyze verify, sandboxed and able to bind 80 and 443', async () => {
    const unit = readFileSync(
      new URL('../../contrib/systemd/switchyard.service', import.meta.url),
      'utf8',
    );
    assert.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    assert.match(unit, /^ProtectSystem=strict$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    // verify checks that ExecStart exists: point it at this checkout's executable.
    const dir = mkdtempSync(join(tmpdir(), 'sy-unit-'));
    const file = join(dir, 'switchyard.service');
    writeFileSync(file, unit.replace('/opt/switchyard/bin/switchyard.js', BIN));
    const { stderr } = await run(findBinary('systemd-analyze')!, ['verify', file]);
    assert.equal(stderr.trim(), '');
  });
});
