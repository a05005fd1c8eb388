/**
 * Pebble (a small ACME CA for tests) and pebble-challtestsrv (its mock DNS), from Debian's
 * `pebble` package, on free loopback ports. Pebble's own HTTPS certificate comes from a
 * throw-away local CA whose PEM the ACME client must trust; Pebble validates HTTP-01 on
 * `httpPort` (the Switchyard under test) and resolves names through challtestsrv, which
 * answers every A query with 127.0.0.1 and serves the TXT records a test sets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { Agent } from 'undici';
import { LocalCa } from '../../src/tls/local-ca.js';
import { freePort, waitForPort } from './ports.js';

export interface TestPebble {
  /** ACME directory URL. */
  readonly directory: string;
  /** PEM file to trust for Pebble's HTTPS (`https.acme.caFile`). */
  readonly caFile: string;
  /** `127.0.0.1:<port>` of the mock DNS (`domains.resolvers`). */
  readonly dns: string;
  /**
   * Start Pebble, validating HTTP-01 against `httpPort`; names (and DNS-01 TXT records) are
   * looked up at `dnsServer` (`127.0.0.1:<port>`; default: the mock DNS).
   */
  start(httpPort: number, env?: Record<string, string>, dnsServer?: string): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  /** PEM of the root Pebble issues under (trust it to check issued certificates). */
  root(): Promise<string>;
  /** Everything Pebble has logged. */
  log(): string;
  close(): Promise<void>;
}

export async function preparePebble(): Promise<TestPebble> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-pebble-'));
  const ca = await LocalCa.open(join(dir, 'ca'));
  const serverCert = await ca.issue(['127.0.0.1', 'localhost']);
  writeFileSync(join(dir, 'cert.pem'), serverCert.certPem);
  writeFileSync(join(dir, 'key.pem'), serverCert.keyPem);
  const [acmePort, managementPort, dnsPort, challMgmtPort, tlsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const procs: ChildProcess[] = [];
  let pebbleLog = '';
  const dispatcher = new Agent({ connect: { ca: ca.caPem } });

  const chall = spawn(
    'pebble-challtestsrv',
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-management',
      `127.0.0.1:${challMgmtPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-defaultIPv6',
      '',
    ],
    { stdio: 'ignore' },
  );
  procs.push(chall);
  await waitForPort(challMgmtPort, 'pebble-challtestsrv', chall);

  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    caFile: ca.caFile,
    dns: `127.0.0.1:${dnsPort}`,
    async start(httpPort, env = {}, dnsServer = `127.0.0.1:${dnsPort}`) {
      const config = join(dir, 'pebble.json');
      writeFileSync(
        config,
        JSON.stringify({
          pebble: {
            listenAddress: `127.0.0.1:${acmePort}`,
            managementListenAddress: `127.0.0.1:${managementPort}`,
            certificate: join(dir, 'cert.pem'),
            privateKey: join(dir, 'key.pem'),
            httpPort,
            tlsPort,
            ocspResponderURL: '',
            externalAccountBindingRequired: false,
          },
        }),
      );
      const pebble = spawn('pebble', ['-config', config, '-dnsserver', dnsServer], {
        env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      pebble.stdout.setEncoding('utf8').on('data', (d: string) => (pebbleLog += d));
      pebble.stderr.setEncoding('utf8').on('data', (d: string) => (pebbleLog += d));
      procs.push(pebble);
      await waitForPort(acmePort, 'pebble', pebble);
    },
    async setTxt(host, value) {
      const res = await request(`http://127.0.0.1:${challMgmtPort}/set-txt`, {
        method: 'POST',
        body: JSON.stringify({ host: host.endsWith('.') ? host : `${host}.`, value }),
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`set-txt: ${res.statusCode}`);
    },
    async root() {
      const res = await request(`https://127.0.0.1:${managementPort}/roots/0`, { dispatcher });
      return res.body.text();
    },
    log: () => pebbleLog,
    async close() {
      for (const p of procs.reverse()) {
        if (p.exitCode === null) {
          p.kill('SIGKILL');
          await once(p, 'exit');
        }
      }
      await dispatcher.close();
    },
  };
}
