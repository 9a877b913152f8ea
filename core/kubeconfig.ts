/** Loads a kubeconfig from a file, or the in-cluster service account when no file is given. */
import * as k8s from '@kubernetes/client-node';
import { ControllerError } from './errors.ts';

export function loadKubeConfig(file: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromCluster();
  } catch (err) {
    throw new ControllerError('CONFIG_INVALID', `cannot load kubeconfig ${file ?? '(in-cluster)'}: ${(err as Error).message}; pass --kubeconfig <file>`, { cause: err });
  }
  if (!kc.getCurrentCluster()) {
    throw new ControllerError('CONFIG_INVALID', `kubeconfig ${file ?? '(in-cluster)'} has no current cluster; pass --kubeconfig <file> or run inside a cluster`);
  }
  return kc;
}
