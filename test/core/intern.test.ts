import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterner, intern } from '../../core/intern.ts';

test('equal texts come back as the text first seen; other texts are themselves', () => {
  const first = intern(['a', 'b'].join('/'));
  assert.equal(intern(`a/${'b'}`), first);
  assert.equal(intern('c'), 'c');
  // Past the limit the table starts over: equal texts are still equal strings.
  for (let i = 0; i < 2000; i++) intern(`k${i}`);
  assert.equal(intern('a/b'), 'a/b');
});

test('createInterner: a table of its own, bounded by its limit', () => {
  const two = createInterner(2);
  const a = two(['x', 'y'].join(''));
  assert.equal(two('xy'), a);
  two('p');
  two('q'); // past the limit: starts over, texts still equal
  assert.equal(two('xy'), 'xy');
  assert.notEqual(createInterner(4)('xy'), undefined);
});
