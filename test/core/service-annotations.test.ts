import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServiceAnnotations } from '../../core/service-annotations.ts';

const E = 'module-controller.koupleless.io/service-enabled';
const P = 'module-controller.koupleless.io/service-port';
const TP = 'module-controller.koupleless.io/service-target-port';
const T = 'module-controller.koupleless.io/service-type';

const cases: Array<[string, Record<string, string> | undefined, object, number, boolean]> = [
  ['none', undefined, { enabled: false }, 0, false],
  ['unrelated annotations only', { a: 'b' }, { enabled: false }, 0, false],
  ['full and valid', { [E]: 'true', [P]: '8080', [TP]: '18080', [T]: 'ClusterIP' }, { enabled: true, port: 8080, targetPort: 18080, type: 'ClusterIP' }, 0, true],
  ['enabled is case-insensitive, false accepted', { [E]: 'False' }, { enabled: false }, 0, true],
  ['port bounds 1 and 65535', { [P]: '1', [TP]: '65535' }, { enabled: false, port: 1, targetPort: 65535 }, 0, true],
  ['port 0', { [P]: '0' }, { enabled: false }, 1, true],
  ['port 65536', { [P]: '65536' }, { enabled: false }, 1, true],
  ['port not a number', { [P]: 'http' }, { enabled: false }, 1, true],
  ['port with a fraction', { [P]: '80.5' }, { enabled: false }, 1, true],
  ['negative target port', { [TP]: '-1' }, { enabled: false }, 1, true],
  ['type ExternalName', { [T]: 'ExternalName' }, { enabled: false }, 1, true],
  ['type in lower case', { [T]: 'nodeport' }, { enabled: false }, 1, true],
  ['enabled yes', { [E]: 'yes' }, { enabled: false }, 1, true],
  ['everything wrong at once', { [E]: '1', [P]: 'x', [TP]: '0', [T]: 'Foo' }, { enabled: false }, 4, true],
];

for (const [name, annotations, value, problems, present] of cases) {
  test(`parseServiceAnnotations: ${name}`, () => {
    const r = parseServiceAnnotations(annotations);
    assert.deepEqual(r.value, value);
    assert.equal(r.problems.length, problems, JSON.stringify(r.problems));
    assert.equal(r.present, present);
  });
}
