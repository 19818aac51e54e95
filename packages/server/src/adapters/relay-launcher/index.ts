import type { KubernetesRelayLauncherOptions } from './kubernetes.js';
import { ProcessRelayLauncher, type ProcessRelayLauncherOptions } from './process.js';
import type { RelayLauncher } from './types.js';

export * from './types.js';
export {
  buildRelayPod,
  buildRelaySecret,
  relayResourceName,
  RELAY_LABEL_SELECTOR,
  type RelayPodOptions,
  type RelaySecretOptions,
} from './pod-spec.js';
export { defaultRelayCommand, ProcessRelayLauncher, type ProcessRelayLauncherOptions } from './process.js';
// Types only: the Kubernetes client (tens of MB resident) loads when config picks that launcher.
export type {
  KubernetesApiError,
  KubernetesRelayLauncher,
  KubernetesClusterOptions,
  KubernetesRelayLauncherOptions,
} from './kubernetes.js';

export type RelayLauncherOptions =
  | ({ kind: 'process' } & ProcessRelayLauncherOptions)
  | ({ kind: 'kubernetes' } & KubernetesRelayLauncherOptions);

/**
 * The launcher config asks for: child processes by default, Pods in
 * production. The Kubernetes client is imported only when it is picked.
 */
export async function createRelayLauncher(opts: RelayLauncherOptions): Promise<RelayLauncher> {
  switch (opts.kind) {
    case 'process': {
      const { kind: _kind, ...options } = opts;
      return new ProcessRelayLauncher(options);
    }
    case 'kubernetes': {
      const { kind: _kind, ...options } = opts;
      const { KubernetesRelayLauncher } = await import('./kubernetes.js');
      return new KubernetesRelayLauncher(options);
    }
  }
}
