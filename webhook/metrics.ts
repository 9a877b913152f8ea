/** The webhook's Prometheus metrics, registered on the registry the entry point passes down. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  observeReview(endpoint: string, result: string, seconds: number): void;
  setCertNotAfter(notAfter: Date): void;
  /** The latest expiry among the CA certificates the API server is told to trust (caBundle). */
  setCaNotAfter(notAfter: Date): void;
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const labelNames = ['endpoint', 'result'] as const;
  const requests = new Counter({
    name: 'module_controller_webhook_requests_total',
    help: 'AdmissionReviews answered, by endpoint and result (allowed, patched, denied, errored)',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'module_controller_webhook_request_duration_seconds',
    help: 'Time from the request arriving to the AdmissionReview being written, by endpoint and result',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  // `_timestamp_seconds`: a point in time, as Prometheus naming asks; alert on `… - time() < 7 * 86400`.
  // Labelled, so nothing is exported before a certificate is known (an unlabelled gauge would say 0: 1970).
  const certExpiry = new Gauge({
    name: 'module_controller_webhook_cert_expiry_timestamp_seconds',
    help: 'Expiry (Unix seconds) of the serving certificate in use (certificate="serving") and of the latest CA certificate in the configurations\' caBundle (certificate="ca")',
    labelNames: ['certificate'],
    registers: [registry],
  });
  // Labelled children are cached: hashing the label object on every review showed up in profiles.
  const children = new Map<string, { count: () => void; observe: (s: number) => void }>();
  return {
    observeReview(endpoint, result, seconds) {
      const key = `${endpoint}\0${result}`;
      let child = children.get(key);
      if (!child) {
        const c = requests.labels(endpoint, result);
        const h = latency.labels(endpoint, result);
        child = { count: () => c.inc(), observe: (s) => h.observe(s) };
        children.set(key, child);
      }
      child.count();
      child.observe(seconds);
    },
    setCertNotAfter(notAfter) {
      certExpiry.labels('serving').set(notAfter.getTime() / 1000);
    },
    setCaNotAfter(notAfter) {
      certExpiry.labels('ca').set(notAfter.getTime() / 1000);
    },
  };
}
