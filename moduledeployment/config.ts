/** The module-deployment controller's flags (each also an MC_* env var), parsed once by core/command.ts. */
import { toLeaderFlags } from '../core/leader-flags.ts';
import { FLAG_SPELLINGS, type FlagSpec } from '../core/flags.ts';

export const MODULE_DEPLOYMENT_FLAGS = {
  kubeconfig: { kind: 'string', description: 'Kubeconfig file (in-cluster config when empty)' },
  port: { kind: 'int', description: 'Port of /healthz, /readyz and /metrics', default: 8084, min: 0, max: 65535, flag: FLAG_SPELLINGS.opsPort.flag, aliases: FLAG_SPELLINGS.opsPort.was },
  instanceId: { kind: 'string', description: 'This replica\'s id (lease holder); default hostname + random suffix' },
  ...toLeaderFlags('module-controller-module-deployment'),
  resync: { kind: 'duration', description: 'Re-plan every ModuleDeployment this often (a safety net for missed watch events)', default: '30s', min: 1000 },
} as const satisfies Record<string, FlagSpec>;
