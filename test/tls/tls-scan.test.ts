import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { startEdge, type TestEdge } from '../support/edge.js';

const run = promisify(execFile);

describe('TLS configuration as sslscan sees it', needsBinary('sslscan'), () => {
  let edge: TestEdge;
  let report: string;
  before(async () => {
    edge = await startEdge({ demo: true });
    const port = edge.instance.sy.httpsPort!;
    ({ stdout: report } = await run(
      'sslscan',
      ['--no-colour', '--sni-name=hello.localhost', `127.0.0.1:${port}`],
      {
        timeout: 60_000,
      },
    ));
  });
  after(() => edge.close());

  it('offers TLS 1.2 and 1.3 only, without renegotiation', () => {
    for (const old of ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1']) {
      assert.match(report, new RegExp(`^${old.replace('.', '\\.')}\\s+disabled$`, 'm'), report);
    }
    assert.match(report, /^TLSv1\.2\s+enabled$/m);
    assert.match(report, /^TLSv1\.3\s+enabled$/m);
    assert.match(report, /Session renegotiation not supported/);
  });

  it('accepts only forward-secret AEAD suites', () => {
    const accepted = report.split('\n').filter((l) => /^(Preferred|Accepted)\s/.test(l));
    assert.ok(accepted.length >= 4, report);
    for (const line of accepted) {
      const suite = line.trim().split(/\s+/)[4] ?? '';
      assert.match(
        suite,
        /^(TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+|ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305))$/,
        line,
      );
      assert.doesNotMatch(suite, /CBC|RC4|3DES|DES-|NULL|EXP|MD5/);
    }
  });
});
