import { KubernetesRelayLauncher, type KubernetesRelayLauncherOptions } from './kubernetes.js';
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
export {
  KubernetesApiError,
  KubernetesRelayLauncher,
  RELAY_KUBERNETES_PERMISSIONS,
  type KubernetesClusterOptions,
  type KubernetesRelayLauncherOptions,
} from './kubernetes.js';

export type RelayLauncherOptions =
  | ({ kind: 'process' } & ProcessRelayLauncherOptions)
  | ({ kind: 'kubernetes' } & KubernetesRelayLauncherOptions);

/** The launcher config asks for: child processes by default, Pods in production. */
export function createRelayLauncher(opts: RelayLauncherOptions): RelayLauncher {
  switch (opts.kind) {
    case 'process': {
      const { kind: _kind, ...options } = opts;
      return new ProcessRelayLauncher(options);
    }
    case 'kubernetes': {
      const { kind: _kind, ...options } = opts;
      return new KubernetesRelayLauncher(options);
    }
  }
}
