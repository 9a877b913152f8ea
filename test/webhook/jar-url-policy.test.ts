import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJarUrl, DEFAULT_JAR_URL_POLICY, parseJarUrlPolicy, type JarUrlPolicy } from '../../webhook/jar-url-policy.ts';

function policy(schemes: string[], prefixes: string[] = []): JarUrlPolicy {
  const parsed = parseJarUrlPolicy(schemes, prefixes);
  assert.equal(parsed.kind, 'ok', JSON.stringify(parsed));
  return (parsed as { policy: JarUrlPolicy }).policy;
}

const repo = policy(['https'], ['https://repo.example.com', 'https://mirror.example.com/modules/']);

// [url, policy, expected substring of the refusal or undefined = allowed]
const cases: Array<[string, JarUrlPolicy, RegExp | undefined]> = [
  ['https://repo.example.com/biz1-0.0.1-ark-biz.jar', DEFAULT_JAR_URL_POLICY, undefined],
  ['http://repo.example.com/biz1.jar', DEFAULT_JAR_URL_POLICY, undefined],
  ['file:///opt/modules/biz1.jar', DEFAULT_JAR_URL_POLICY, /uses file:\/\/, which this cluster does not allow; allowed schemes: https, http \(webhook flag --allowed-jar-url-schemes\)/],
  ['file:///opt/modules/biz1.jar', policy(['https', 'http', 'file']), undefined],
  ['http://repo.example.com/biz1.jar', policy(['https']), /uses http:\/\/.*allowed schemes: https/],
  ['HTTPS://REPO.example.com/biz1.jar', repo, undefined],
  ['https://repo.example.com/a/b/biz1.jar', repo, undefined],
  ['https://mirror.example.com/modules/biz1.jar', repo, undefined],
  ['https://mirror.example.com/other/biz1.jar', repo, /is not under an allowed jar location; allowed prefixes: https:\/\/repo\.example\.com\/, https:\/\/mirror\.example\.com\/modules\/ \(webhook flag --allowed-jar-url-prefixes\)/],
  // A host that only starts like the allowed one, and user-info that looks like it, are other hosts.
  ['https://repo.example.com.evil.test/biz1.jar', repo, /not under an allowed jar location/],
  ['https://repo.example.com@evil.test/biz1.jar', repo, /not under an allowed jar location/],
  ['https://repo.example.com:8443/biz1.jar', repo, /not under an allowed jar location/],
];
for (const [url, p, want] of cases) {
  test(`checkJarUrl ${url} with schemes ${p.schemes.join(',')}${p.prefixes.length ? ` prefixes ${p.prefixes.join(',')}` : ''}`, () => {
    const why = checkJarUrl(url, p);
    if (want === undefined) assert.equal(why, undefined);
    else assert.match(why ?? '', want);
  });
}

test('parseJarUrlPolicy: schemes given with a colon or in capitals; duplicates dropped', () => {
  assert.deepEqual(policy(['HTTPS:', 'https://', 'http']).schemes, ['https', 'http']);
});

test('parseJarUrlPolicy: every problem at once', () => {
  const parsed = parseJarUrlPolicy(['ftp'], ['not a url', 'http://x.example/']);
  assert.equal(parsed.kind, 'invalid');
  assert.deepEqual((parsed as { problems: readonly string[] }).problems, [
    '--allowed-jar-url-schemes: "ftp" is not a scheme a base can fetch a jar from; use https, http, file',
    '--allowed-jar-url-prefixes: "not a url" is not a URL; give a prefix like https://repo.example.com/modules/',
    '--allowed-jar-url-prefixes: "http://x.example/" uses scheme http, which --allowed-jar-url-schemes does not allow',
  ]);
  assert.match(JSON.stringify(parseJarUrlPolicy([], [])), /is empty, so no module could be installed/);
});
