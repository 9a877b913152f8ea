/** When certificates expire, for the `…_cert_expiry_timestamp_seconds` gauges of the webhook and extender. */
import { X509Certificate } from 'node:crypto';

/** The latest notAfter among the certificates of a PEM bundle (undefined when none parses). */
export function toLatestExpiry(pem: string | Buffer): Date | undefined {
  let latest: Date | undefined;
  for (const block of pem.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
    try {
      const notAfter = new Date(new X509Certificate(block).validTo);
      if (!Number.isNaN(notAfter.getTime()) && (!latest || notAfter > latest)) latest = notAfter;
    } catch {
      // not a certificate: skip it
    }
  }
  return latest;
}
