/**
 * A private control plane for one fault test file, whose kube-apiserver the test stops and starts
 * again (on the same port, same arguments) without disturbing the shared one other files use.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startControlPlane, type ControlPlaneState } from '../../sandbox/control-plane.ts';
import { connectTestCluster, type TestCluster } from './cluster.ts';

export interface PrivateCluster extends TestCluster {
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Stops every process of the private control plane and removes its folder. */
  stop(): Promise<void>;
}

export async function startPrivateCluster(log: (line: string) => void = () => {}): Promise<PrivateCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-faults-cp-'));
  // About Kubernetes' own grace (40 s, 50 s since v1.32, before an unrenewed node Lease makes a node Unknown): an API
  // server outage shorter than that must not touch any node.
  const cp = await startControlPlane({ dir, nodeMonitorGracePeriod: '40s', log });
  // If the test process dies early: kill what state.json names (it follows an API server restart).
  process.on('exit', () => {
    let pids: Record<string, number> = cp.pids;
    try { pids = (JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as ControlPlaneState).pids; } catch { /* stopped and removed */ return; }
    for (const pid of Object.values(pids)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  });
  return {
    ...connectTestCluster(cp),
    stopApiServer: () => cp.stopApiServer(),
    startApiServer: () => cp.startApiServer(),
    async stop() {
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
