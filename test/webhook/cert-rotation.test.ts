import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSilentLogger } from '../../core/logger.ts';
import { createMemoryCaStore, type CaStore } from '../../webhook/ca-store.ts';
import { checkCertPolicy, readCertInfo, type CertPolicy } from '../../webhook/cert-plan.ts';
import { createCertRotator, type ServingCert } from '../../webhook/cert-rotation.ts';

const HOUR = 3_600_000;
const POLICY: CertPolicy = { caValidityMs: 30 * 24 * HOUR, servingValidityMs: 24 * HOUR, renewBeforeMs: 8 * HOUR, commonName: 'webhook', dnsNames: ['webhook.ns.svc'], ips: ['127.0.0.1'] };
const T0 = new Date('2030-01-01T00:00:00Z');

function setup(store: CaStore = createMemoryCaStore(), onCaBundle: (pem: string) => Promise<void> = () => Promise.resolve()) {
  let now = T0;
  const events: string[] = [];
  const served: ServingCert[] = [];
  const bundles: string[] = [];
  const rotator = createCertRotator({
    store,
    policy: POLICY,
    now: () => now,
    logger: createSilentLogger(),
    onServingCert: (c) => {
      events.push('serving');
      served.push(c);
    },
    onCaBundle: async (pem) => {
      events.push('bundle');
      bundles.push(pem);
      await onCaBundle(pem);
    },
  });
  return { rotator, events, served, bundles, at: (ms: number) => (now = new Date(T0.getTime() + ms)) };
}

const certCount = (pem: string) => pem.match(/BEGIN CERTIFICATE/g)?.length ?? 0;

test('first tick creates the CA and a serving cert; the bundle is published before the cert is served', async () => {
  const s = setup();
  const out = await s.rotator.tick();
  assert.deepEqual({ caCreated: out.caCreated, servingIssued: out.servingIssued }, { caCreated: true, servingIssued: true });
  assert.deepEqual(s.events, ['bundle', 'serving']);
  assert.equal(certCount(out.bundlePem), 1);
  const info = readCertInfo(s.served[0]!.pair.certPem);
  assert.equal(info.notAfter.getTime(), T0.getTime() + POLICY.servingValidityMs);
});

test('serving cert: kept while fresh, renewed renewBefore ahead of expiry, from the same CA', async () => {
  const s = setup();
  await s.rotator.tick();
  s.at(15 * HOUR);
  assert.equal((await s.rotator.tick()).servingIssued, false);
  s.at(16 * HOUR + 1000);
  const renewed = await s.rotator.tick();
  assert.equal(renewed.servingIssued, true);
  assert.equal(renewed.caCreated, false);
  assert.equal(s.served.length, 2);
  assert.notEqual(s.served[1]!.pair.certPem, s.served[0]!.pair.certPem);
  assert.equal(s.served[1]!.caCertPem, s.served[0]!.caCertPem);
  assert.equal(readCertInfo(s.served[1]!.pair.certPem).notAfter.getTime(), T0.getTime() + 16 * HOUR + 1000 + POLICY.servingValidityMs);
});

test('CA: renewed with a third of its life left; the old CA stays trusted; serving moves on at its own renewal', async () => {
  const s = setup();
  await s.rotator.tick();
  const oldCa = s.served[0]!.caCertPem;
  const twoThirds = (POLICY.caValidityMs * 2) / 3;
  // Keep the serving cert fresh right up to the CA renewal.
  s.at(twoThirds - 9 * HOUR);
  await s.rotator.tick();
  assert.equal(s.served.length, 2);
  s.at(twoThirds + 1);
  const rotated = await s.rotator.tick();
  assert.equal(rotated.caCreated, true);
  assert.equal(certCount(rotated.bundlePem), 2);
  assert.ok(rotated.bundlePem.includes(oldCa));
  assert.equal(rotated.servingIssued, false, 'a serving cert from a still-trusted CA is not replaced early');
  s.at(twoThirds - 9 * HOUR + 16 * HOUR + 1000);
  const moved = await s.rotator.tick();
  assert.equal(moved.servingIssued, true);
  assert.notEqual(s.served.at(-1)!.caCertPem, oldCa);
  // Once the old CA has expired it leaves the bundle.
  s.at(POLICY.caValidityMs + 1);
  assert.equal(certCount((await s.rotator.tick()).bundlePem), 1);
});

test('two replicas share one CA; a lost write race adopts the winner\'s CA', async () => {
  const store = createMemoryCaStore();
  const a = setup(store);
  await a.rotator.tick();
  // A store where another replica writes between our read and our write, once.
  let raced = false;
  const racing: CaStore = {
    description: 'racing',
    load: () => store.load(),
    async save(next, version) {
      if (!raced) {
        raced = true;
        await store.save(next, version);
        return 'conflict';
      }
      return store.save(next, version);
    },
  };
  const b = setup(racing);
  b.at((POLICY.caValidityMs * 2) / 3 + 1);
  const out = await b.rotator.tick();
  assert.equal(out.caCreated, false, 'the other replica created it');
  assert.equal(certCount(out.bundlePem), 2);
  const stored = await store.load();
  assert.equal(b.served[0]!.caCertPem, stored!.ca.certPem);
  const c = setup(store);
  await c.rotator.tick();
  assert.equal(c.served[0]!.caCertPem, stored!.ca.certPem);
});

test('caBundle publishing fails: the first cert is still served; a new CA is not used until published', async () => {
  let fail = true;
  const s = setup(createMemoryCaStore(), () => (fail ? Promise.reject(new Error('apiserver down')) : Promise.resolve()));
  await assert.rejects(s.rotator.tick(), /apiserver down/);
  assert.equal(s.served.length, 1, 'nothing served yet: serve anyway');
  const firstCa = s.served[0]!.caCertPem;
  s.at(POLICY.caValidityMs - 1); // CA due and serving cert long expired
  await assert.rejects(s.rotator.tick(), /apiserver down/);
  assert.equal(s.served.length, 1, 'no serving cert from an unpublished CA');
  fail = false;
  await s.rotator.tick();
  assert.equal(s.served.length, 2);
  assert.notEqual(s.served[1]!.caCertPem, firstCa);
});

test('checkCertPolicy: renew-before shorter than validity; validity at most a third of the CA', () => {
  assert.deepEqual(checkCertPolicy(POLICY), []);
  assert.equal(checkCertPolicy({ ...POLICY, renewBeforeMs: POLICY.servingValidityMs }).length, 1);
  assert.equal(checkCertPolicy({ ...POLICY, caValidityMs: 2 * POLICY.servingValidityMs }).length, 1);
});
