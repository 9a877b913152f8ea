/**
 * The leader-election flags every leader-elected command shares (bridge, module-deployment), so
 * their spelling, help text and bounds cannot drift apart; only the Lease name differs.
 */
import type { FlagSpec } from './flags.ts';

export function toLeaderFlags(defaultLeaseName: string) {
  return {
    leaderElect: { kind: 'bool', description: 'Run leader election so only one replica acts', default: true },
    leaderLeaseName: { kind: 'string', description: 'Name of the leader election Lease', default: defaultLeaseName },
    leaderLeaseNamespace: { kind: 'string', description: 'Namespace of the leader election Lease', default: 'default' },
    leaderLeaseDuration: { kind: 'duration', description: 'Leader lease duration (a standby takes over after it expires)', default: '10s', min: 2000 },
  } as const satisfies Record<string, FlagSpec>;
}
