/** Deciding how to reach the Kubernetes API from auth_type and the environment. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export type AuthType = 'auto' | 'serviceAccount' | 'kubeConfig' | 'none';

export type AuthPlan =
  | { kind: 'none'; reason: string }
  | { kind: 'serviceAccount' }
  | { kind: 'kubeConfig'; path: string; context: string };

export interface AuthSettings {
  authType: AuthType;
  kubeConfigPath: string;
  context: string;
}

/** A problem the user has to fix in the config or the deployment. */
export class K8sConfigError extends Error {}

/**
 * The plan, or a K8sConfigError when an explicit auth_type cannot work here. `auto` falls back
 * to none outside a cluster without a kubeconfig; it fails only when kube_config_path or
 * KUBECONFIG names a file that does not exist.
 */
export function planAuth(settings: AuthSettings, env: NodeJS.ProcessEnv = process.env): AuthPlan {
  const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT);
  switch (settings.authType) {
    case 'none':
      return { kind: 'none', reason: 'auth_type is none' };
    case 'serviceAccount':
      if (!inCluster) {
        throw new K8sConfigError(
          'auth_type serviceAccount needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets in every pod; ' +
            'outside a cluster use auth_type: kubeConfig (or none)',
        );
      }
      return { kind: 'serviceAccount' };
    case 'kubeConfig':
      return { kind: 'kubeConfig', path: kubeConfigFile(settings, env, true), context: settings.context };
    case 'auto': {
      if (inCluster) return { kind: 'serviceAccount' };
      // Only an explicit kubeconfig: a developer's ~/.kube/config may point at any cluster.
      if (settings.kubeConfigPath || env.KUBECONFIG) {
        return { kind: 'kubeConfig', path: kubeConfigFile(settings, env, false), context: settings.context };
      }
      return {
        kind: 'none',
        reason: 'not running in a pod (no KUBERNETES_SERVICE_HOST) and no kube_config_path or KUBECONFIG',
      };
    }
  }
}

function kubeConfigFile(settings: AuthSettings, env: NodeJS.ProcessEnv, allowHomeDefault: boolean): string {
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((p) => p.length > 0);
  const path = settings.kubeConfigPath || fromEnv || (allowHomeDefault ? join(homedir(), '.kube', 'config') : '');
  if (!path || !existsSync(path)) {
    const source = settings.kubeConfigPath ? 'kube_config_path' : fromEnv ? 'KUBECONFIG' : 'the default';
    throw new K8sConfigError(`kubeconfig ${path || '(none)'} (from ${source}) does not exist: set kube_config_path to a readable kubeconfig file`);
  }
  return path;
}
