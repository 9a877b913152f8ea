/**
 * The latency benchmark's cluster: N virtual nodes (every 50th not Ready), 0..5 other modules per
 * base and a replica of the benchmarked module (`demo`, another version) on every 10th base, fed
 * into a snapshot the way the informers feed it. Shared by the extender process the benchmark
 * starts (extender-server.ts) and the in-process decision timings (extender.ts).
 */
import type { V1Node } from '@kubernetes/client-node';
import { ClusterSnapshot } from '../extender/snapshot.ts';
import { PlacementMemory } from '../extender/placement-memory.ts';
import { toNode, toPod } from '../test/extender/fixtures.ts';

export const nodeNameOf = (i: number) => `virtual-node-${i}`;

export function benchNodes(count: number): V1Node[] {
  return Array.from({ length: count }, (_, i) => toNode(nodeNameOf(i), { ready: i % 50 === 7 ? 'False' : 'True' }));
}

/** The pod the benchmark places, one UID throughout (a scheduler retrying one pod). */
export const benchPod = () => toPod({ uid: 'bench-pod' });

export function benchSnapshot(count: number): ClusterSnapshot {
  const snapshot = new ClusterSnapshot(new PlacementMemory(30_000, Date.now), ['bench']);
  snapshot.markSynced('bench', true);
  // Through JSON, as the informer delivers them (flat strings; template-literal names would be cons strings).
  const fromWire = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
  for (const n of benchNodes(count)) snapshot.applyNode('add', fromWire(n));
  for (let i = 0; i < count; i++) {
    const modules = Array.from({ length: i % 6 }, (_, j) => ({ bizName: `mod-${(i + j) % 40}`, bizVersion: '1.0.0' }));
    if (i % 10 === 3) modules.push({ bizName: 'demo', bizVersion: '0.9.0' });
    if (modules.length > 0) snapshot.applyPod('bench', 'add', fromWire(toPod({ uid: `bound-${i}`, nodeName: nodeNameOf(i), modules })));
  }
  return snapshot;
}
