import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderConfigDocs, CONFIG_DOC } from '../../scripts/render-config-docs.ts';

test('docs/configuration.md matches the commands\' flag tables', () => {
  assert.equal(readFileSync(CONFIG_DOC, 'utf8'), renderConfigDocs(), 'run: node scripts/render-config-docs.ts');
});
