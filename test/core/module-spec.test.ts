import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkBizName,
  checkBizUrl,
  checkBizVersion,
  checkModuleContainer,
  parseModules,
  parseModulesOf,
  toBizModel,
  toModuleKey,
  type ContainerLike,
} from '../../core/module-spec.ts';

const JAR = 'https://example.invalid/biz1-0.0.1-ark-biz.jar';
const v = (value: string) => [{ name: 'BIZ_VERSION', value }];

test('checkBizName', () => {
  const ok = ['biz1', 'a', '0', 'my-module', 'a'.repeat(63)];
  for (const n of ok) assert.equal(checkBizName(n), undefined, n);
  assert.equal(checkBizName(undefined), 'has no name; set it to the module bizName (the artifactId in pom.xml)');
  assert.equal(checkBizName(''), 'has no name; set it to the module bizName (the artifactId in pom.xml)');
  for (const bad of ['Biz1', 'biz_1', '-biz', 'biz-', 'biz.1', 'a'.repeat(64), 'biz 1']) {
    assert.equal(
      checkBizName(bad),
      `name "${bad}" is not a valid bizName; use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (the artifactId in pom.xml)`,
      bad,
    );
  }
});

test('checkBizVersion', () => {
  for (const ok of ['1.0.0', '0.0.1-SNAPSHOT', '2.1.0.RELEASE', '1.0+build', 'v2']) {
    assert.equal(checkBizVersion({ env: v(ok) }), undefined, ok);
  }
  assert.equal(checkBizVersion({}), 'env BIZ_VERSION is missing; set it to the module version from pom.xml');
  assert.equal(checkBizVersion({ env: [{ name: 'OTHER', value: '1' }] }), 'env BIZ_VERSION is missing; set it to the module version from pom.xml');
  assert.equal(
    checkBizVersion({ env: [{ name: 'BIZ_VERSION', valueFrom: { configMapKeyRef: { name: 'x', key: 'y' } } }] }),
    'env BIZ_VERSION uses valueFrom; give it a literal value (the module version from pom.xml)',
  );
  assert.equal(checkBizVersion({ env: v('') }), 'env BIZ_VERSION is empty; set it to the module version from pom.xml');
  assert.equal(checkBizVersion({ env: [{ name: 'BIZ_VERSION' }] }), 'env BIZ_VERSION is empty; set it to the module version from pom.xml');
  for (const bad of ['.1', '1 0', '1/0', 'x'.repeat(129), '-1']) {
    assert.equal(
      checkBizVersion({ env: v(bad) }),
      `env BIZ_VERSION "${bad}" is not a valid version; use letters, digits, '.', '_', '+' and '-' (e.g. 1.0.0 or 0.0.1-SNAPSHOT)`,
      bad,
    );
  }
});

test('checkBizUrl', () => {
  for (const ok of [JAR, 'http://repo/x.jar', 'file:///opt/modules/x.JAR', 'https://repo/x.jar?token=1']) {
    assert.equal(checkBizUrl(ok), undefined, ok);
  }
  const missing = 'image is missing; set it to the module jar URL (http://, https:// or file://, ending in .jar)';
  assert.equal(checkBizUrl(undefined), missing);
  assert.equal(checkBizUrl(''), missing);
  for (const bad of ['nginx:1.25', 'ftp://repo/x.jar', 'https://repo/x.war', 'repo/x.jar', 'https://repo/x.jar/']) {
    assert.equal(
      checkBizUrl(bad),
      `image "${bad}" is not a jar URL; set it to the module jar URL (http://, https:// or file://, ending in .jar)`,
      bad,
    );
  }
});

test('checkModuleContainer: all problems in field order, named by container (or #index)', () => {
  assert.deepEqual(checkModuleContainer({ name: 'biz1', image: JAR, env: v('1.0.0') }, 0), []);
  const problems = checkModuleContainer({ name: 'Bad_Name', image: 'nginx', env: [] }, 3);
  assert.deepEqual(
    problems.map((p) => [p.container, p.field]),
    [
      ['Bad_Name', 'name'],
      ['Bad_Name', 'image'],
      ['Bad_Name', 'env.BIZ_VERSION'],
    ],
  );
  assert.equal(checkModuleContainer({ image: JAR, env: v('1') }, 2)[0]?.container, '#2');
});

test('parseModules: modules of the valid containers plus every problem, duplicates included', () => {
  const containers: ContainerLike[] = [
    { name: 'biz1', image: JAR, env: v('0.0.1') },
    { name: 'biz2', image: 'nginx', env: v('1') },
    { name: 'biz1', image: JAR, env: v('0.0.2') },
  ];
  const r = parseModules(containers);
  assert.deepEqual(r.modules, [
    { bizName: 'biz1', bizVersion: '0.0.1', bizUrl: JAR },
    { bizName: 'biz1', bizVersion: '0.0.2', bizUrl: JAR },
  ]);
  assert.deepEqual(
    r.problems.map((p) => [p.container, p.field, p.message.slice(0, 30)]),
    [
      ['biz2', 'image', 'image "nginx" is not a jar URL'],
      ['biz1', 'name', 'bizName "biz1" is used by two '],
    ],
  );
  assert.equal(r.problems[1]?.message, 'bizName "biz1" is used by two containers; each module may appear once per pod');
  assert.deepEqual(parseModules(undefined), { modules: [], problems: [] });
  assert.deepEqual(parseModules([]), { modules: [], problems: [] });
});

test('toBizModel and toModuleKey', () => {
  const m = { bizName: 'biz1', bizVersion: '0.0.1', bizUrl: JAR };
  assert.deepEqual(toBizModel(m), { bizName: 'biz1', bizVersion: '0.0.1', bizUrl: JAR });
  assert.equal(toModuleKey(m), 'biz1:0.0.1');
});

test('parseModulesOf: the same answer as parseModules, computed once per containers array', () => {
  const containers: ContainerLike[] = [{ name: 'biz1', image: 'http://x/biz1.jar', env: [{ name: 'BIZ_VERSION', value: '1.0.0' }] }, { name: 'bad', image: 'nginx' }];
  const first = parseModulesOf(containers);
  assert.deepEqual(first, parseModules(containers));
  assert.equal(parseModulesOf(containers), first, 'remembered for the same array');
  const copy = containers.map((c) => ({ ...c }));
  assert.notEqual(parseModulesOf(copy), first, 'another array is parsed anew');
  assert.deepEqual(parseModulesOf(copy), first);
  assert.deepEqual(parseModulesOf(undefined), { modules: [], problems: [] });
});
