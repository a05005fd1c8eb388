import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderConfigReference } from '../../src/config/config-reference.js';

describe('docs/configuration.md', () => {
  it('is what the schema generates (run `npm run docs:config` after changing the schema)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(onDisk, renderConfigReference());
  });
});
