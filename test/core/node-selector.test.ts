import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NodeSelectorRequirement } from '@kubernetes/client-node';
import { checkNodeConstraints, matchFieldRequirement, matchLabelRequirement, toRequirementText } from '../../core/node-selector.ts';

const labels = { 'base.koupleless.io/version': '1.0.0', 'base.koupleless.io/name': 'base', count: '7' };

test('matchLabelRequirement follows the Kubernetes operator semantics', () => {
  const table: Array<[V1NodeSelectorRequirement, boolean]> = [
    [{ key: 'base.koupleless.io/version', operator: 'In', values: ['1.0.0', '2.0.0'] }, true],
    [{ key: 'base.koupleless.io/version', operator: 'In', values: ['2.0.0'] }, false],
    [{ key: 'missing', operator: 'In', values: ['x'] }, false],
    [{ key: 'base.koupleless.io/version', operator: 'NotIn', values: ['2.0.0'] }, true],
    [{ key: 'base.koupleless.io/version', operator: 'NotIn', values: ['1.0.0'] }, false],
    [{ key: 'missing', operator: 'NotIn', values: ['x'] }, true],
    [{ key: 'count', operator: 'Exists' }, true],
    [{ key: 'missing', operator: 'Exists' }, false],
    [{ key: 'missing', operator: 'DoesNotExist' }, true],
    [{ key: 'count', operator: 'DoesNotExist' }, false],
    [{ key: 'count', operator: 'Gt', values: ['6'] }, true],
    [{ key: 'count', operator: 'Gt', values: ['7'] }, false],
    [{ key: 'count', operator: 'Lt', values: ['8'] }, true],
    [{ key: 'count', operator: 'Lt', values: ['7'] }, false],
    [{ key: 'count', operator: 'Gt', values: ['a'] }, false],
    [{ key: 'count', operator: 'Gt', values: ['1', '2'] }, false],
    [{ key: 'base.koupleless.io/version', operator: 'Gt', values: ['0'] }, false],
    [{ key: 'missing', operator: 'Lt', values: ['9'] }, false],
    [{ key: 'count', operator: 'Bogus', values: ['7'] }, false],
  ];
  for (const [req, want] of table) assert.equal(matchLabelRequirement(req, labels), want, JSON.stringify(req));
});

test('matchFieldRequirement supports metadata.name with In and NotIn only', () => {
  assert.equal(matchFieldRequirement({ key: 'metadata.name', operator: 'In', values: ['n1'] }, 'n1'), true);
  assert.equal(matchFieldRequirement({ key: 'metadata.name', operator: 'In', values: ['n2'] }, 'n1'), false);
  assert.equal(matchFieldRequirement({ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }, 'n1'), true);
  assert.equal(matchFieldRequirement({ key: 'metadata.name', operator: 'Exists' }, 'n1'), false);
  assert.equal(matchFieldRequirement({ key: 'metadata.uid', operator: 'In', values: ['n1'] }, 'n1'), false);
});

test('checkNodeConstraints: nodeSelector AND (OR of terms, AND inside a term), with a reason', () => {
  const term = (values: string[]) => ({ matchExpressions: [{ key: 'base.koupleless.io/version', operator: 'In', values }] });
  const spec = (terms: unknown[] | undefined, nodeSelector?: Record<string, string>) =>
    ({ nodeSelector, affinity: terms ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } : undefined }) as never;
  const table: Array<[string, unknown, RegExp | undefined]> = [
    ['no constraints', spec(undefined), undefined],
    ['matching term', spec([term(['1.0.0'])]), undefined],
    ['second term matches', spec([term(['2.0.0']), term(['1.0.0'])]), undefined],
    ['one term, no match', spec([term(['2.0.0'])]), /^needs base\.koupleless\.io\/version=2\.0\.0, base has base\.koupleless\.io\/version=1\.0\.0$/],
    ['no term matches', spec([term(['2.0.0']), term(['3.0.0'])]), /^matches none of 2 required node affinity terms \(first: needs .*=2\.0\.0/],
    ['empty term list', spec([]), /no terms/],
    ['empty term', spec([{}]), /empty node selector term/],
    ['AND inside a term', spec([{ matchExpressions: [...term(['1.0.0']).matchExpressions, { key: 'zone', operator: 'Exists' }] }]), /needs zone to exist, base has no zone label/],
    ['nodeSelector mismatch', spec(undefined, { 'base.koupleless.io/name': 'other' }), /needs base\.koupleless\.io\/name=other, base has base\.koupleless\.io\/name=base/],
    ['nodeSelector and term', spec([term(['1.0.0'])], { 'base.koupleless.io/name': 'base' }), undefined],
    ['matchFields', spec([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['other'] }] }]), /needs metadata\.name=other, node is n1/],
  ];
  for (const [name, s, want] of table) {
    const got = checkNodeConstraints(s as never, labels, 'n1');
    if (want === undefined) assert.equal(got, undefined, name);
    else assert.match(got ?? '', want, name);
  }
});

test('toRequirementText says what is needed', () => {
  assert.equal(toRequirementText({ key: 'k', operator: 'In', values: ['a', 'b'] }), 'k in (a, b)');
  assert.equal(toRequirementText({ key: 'k', operator: 'NotIn', values: ['a'] }), 'k not in (a)');
  assert.equal(toRequirementText({ key: 'k', operator: 'DoesNotExist' }), 'no k');
  assert.equal(toRequirementText({ key: 'k', operator: 'Gt', values: ['3'] }), 'k > 3');
  assert.equal(toRequirementText({ key: 'k', operator: 'Lt', values: ['3'] }), 'k < 3');
});
