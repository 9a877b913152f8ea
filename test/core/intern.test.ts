import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intern } from '../../core/intern.ts';

test('equal texts come back as the text first seen; other texts are themselves', () => {
  const first = intern(['a', 'b'].join('/'));
  assert.equal(intern(`a/${'b'}`), first);
  assert.equal(intern('c'), 'c');
  // Past the limit the table starts over: equal texts are still equal strings.
  for (let i = 0; i < 2000; i++) intern(`k${i}`);
  assert.equal(intern('a/b'), 'a/b');
});
