import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkServiceName, isManagedServiceLabels, MANAGED_SERVICE_SELECTOR } from '../../core/service-names.ts';

for (const [bizName, ok] of [
  ['provider', true],
  ['dynamic-provider', true],
  [`a${'b'.repeat(54)}`, true],
  [`a${'b'.repeat(55)}`, false],
  ['1provider', false],
] as const) {
  test(`checkServiceName(${bizName.slice(0, 20)}…) ${ok ? 'accepts' : 'rejects'}`, () => {
    assert.equal(checkServiceName(bizName) === undefined, ok);
  });
}

test('managed = our managed-by value plus a biz-name label; the selector says the same', () => {
  assert.equal(isManagedServiceLabels({ 'app.kubernetes.io/managed-by': 'module-controller', 'module-controller.koupleless.io/biz-name': 'b' }), true);
  assert.equal(isManagedServiceLabels({ 'app.kubernetes.io/managed-by': 'Helm', 'module-controller.koupleless.io/biz-name': 'b' }), false);
  assert.equal(isManagedServiceLabels({ 'app.kubernetes.io/managed-by': 'module-controller' }), false);
  assert.equal(isManagedServiceLabels(undefined), false);
  assert.equal(MANAGED_SERVICE_SELECTOR, 'app.kubernetes.io/managed-by=module-controller,module-controller.koupleless.io/biz-name');
});
