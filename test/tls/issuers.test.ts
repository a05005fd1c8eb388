import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { AcmeIssuer } from '../../src/tls/acme-issuer.js';
import { LocalCa } from '../../src/tls/local-ca.js';
import type { StateStore } from '../../src/store/state-store.js';
import { needsBinary } from '../support/binaries.js';
import { startEdge, type TestEdge } from '../support/edge.js';
import { preparePebble, type TestPebble } from '../support/pebble.js';
import { issuerContract } from './issuer-contract.js';
import { readFileSync } from 'node:fs';

describe('issuers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-issuer-'));
  issuerContract('local CA', {
    issuer: () => LocalCa.open(dir),
    root: async () => (await LocalCa.open(dir)).caPem,
    names: ['app.localhost', '127.0.0.1'],
  });

  describe('acme (Pebble)', needsBinary('pebble'), () => {
    let pebble: TestPebble;
    let edge: TestEdge;
    let store: StateStore;
    before(async () => {
      pebble = await preparePebble();
      // The edge answers Pebble's HTTP-01 requests from the store this issuer writes to.
      edge = await startEdge({ demo: false });
      await pebble.start(edge.port);
      store = edge.instance.control.store;
    });
    after(async () => {
      await edge.close();
      await pebble.close();
    });
    issuerContract('acme', {
      issuer: () =>
        Promise.resolve(
          new AcmeIssuer(store, {
            directoryUrl: pebble.directory,
            email: undefined,
            caPem: readFileSync(pebble.caFile, 'utf8'),
            retries: 1,
          }),
        ),
      root: () => pebble.root(),
      names: ['contract.example.com', 'www.contract.example.com'],
    });
  });
});
