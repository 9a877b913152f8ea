/** The webhook's Prometheus metrics, registered on the registry the entry point passes down. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  observeReview(endpoint: string, result: string, seconds: number): void;
  setCertNotAfter(notAfter: Date): void;
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
  const certNotAfter = new Gauge({
    name: 'module_controller_webhook_serving_cert_not_after_seconds',
    help: 'Expiry (Unix seconds) of the serving certificate in use',
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
      certNotAfter.set(notAfter.getTime() / 1000);
    },
  };
}
