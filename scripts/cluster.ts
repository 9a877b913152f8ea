/**
 * `npm run cluster:up` / `npm run cluster:down`: a local control plane in `.cluster/` that outlives this
 * script (kubeconfig `.cluster/kubeconfig`, pids and ports in `.cluster/state.json`).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startControlPlane, stopControlPlaneFromState, type ControlPlaneState } from '../sandbox/control-plane.ts';

const dir = path.resolve('.cluster');
const stateFile = path.join(dir, 'state.json');
const say = (l: string) => process.stderr.write(`${l}\n`);

function isRunning(state: ControlPlaneState): boolean {
  return Object.values(state.pids).some((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

const verb = process.argv[2];
if (verb === 'up') {
  if (existsSync(stateFile) && isRunning(JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState)) {
    say(`a control plane is already running from ${dir}; run "npm run cluster:down" first`);
    process.exit(1);
  }
  rmSync(dir, { recursive: true, force: true });
  const cp = await startControlPlane({ dir, log: say });
  say(`\nAPI server: ${cp.apiServerUrl}\nkubeconfig: ${cp.kubeconfig}\nkubectl:    ${path.join(cp.binDir, 'kubectl')} --kubeconfig ${cp.kubeconfig} get nodes,pods -A\nlogs:       ${path.join(dir, 'logs')}\nstop with:  npm run cluster:down`);
  process.exit(0);
} else if (verb === 'down') {
  const stopped = await stopControlPlaneFromState(dir);
  say(stopped.length ? `stopped ${stopped.join(', ')}` : 'no control plane was running');
} else {
  say('usage: node scripts/cluster.ts up|down');
  process.exit(2);
}
