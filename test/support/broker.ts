/**
 * The broker an integration test talks to: the runner's Mosquitto when MC_TEST_MOSQUITTO_URL is set
 * (the real external broker), else an in-process Aedes (the embedded default).
 */
import { startEmbeddedBroker } from '../../sandbox/embedded-broker.ts';
import { mosquittoUrlFromEnv } from './cluster.ts';

export async function useTestBroker(): Promise<{ url: string; close(): Promise<void> }> {
  const mosq = mosquittoUrlFromEnv();
  if (mosq) return { url: mosq, close: async () => {} };
  const b = await startEmbeddedBroker();
  return { url: b.url, close: () => b.close() };
}
