/** Certificates, service-account keys and the admin kubeconfig of the local control plane. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueCert, createRsaKeyPem } from '../core/pki.ts';

const DAY_MS = 86_400_000;

export function writeCerts(dir: string) {
  const now = new Date();
  const ca = createCa('module-controller-local-ca', 365 * DAY_MS, now);
  const serving = issueCert(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ips: ['127.0.0.1', '10.0.0.1'],
    validForMs: 365 * DAY_MS,
    usage: 'server',
    now,
  });
  const admin = issueCert(ca, { commonName: 'admin', organizations: ['system:masters'], validForMs: 365 * DAY_MS, usage: 'client', now });
  const sa = createRsaKeyPem();
  const files = {
    ca: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    servingCert: path.join(dir, 'apiserver.crt'),
    servingKey: path.join(dir, 'apiserver.key'),
    adminCert: path.join(dir, 'admin.crt'),
    adminKey: path.join(dir, 'admin.key'),
    saKey: path.join(dir, 'sa.key'),
    saPub: path.join(dir, 'sa.pub'),
  };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.caKey, ca.keyPem, { mode: 0o600 });
  writeFileSync(files.servingCert, serving.certPem);
  writeFileSync(files.servingKey, serving.keyPem, { mode: 0o600 });
  writeFileSync(files.adminCert, admin.certPem);
  writeFileSync(files.adminKey, admin.keyPem, { mode: 0o600 });
  writeFileSync(files.saKey, sa.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.saPub, sa.publicKeyPem);
  return { files, ca, admin };
}

export function toKubeconfig(server: string, caPem: string, admin: { certPem: string; keyPem: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(admin.certPem)}`,
    `    client-key-data: ${b64(admin.keyPem)}`,
    'contexts:',
    '- name: local',
    '  context: { cluster: local, user: admin }',
    'current-context: local',
    '',
  ].join('\n');
}

