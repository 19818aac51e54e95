import { describe, expect, it } from 'vitest';
import { startFakeKubernetes } from '../../../test/fake-kubernetes.js';
import { createRelayLauncher, ProcessRelayLauncher } from './index.js';
import { KubernetesRelayLauncher } from './kubernetes.js';

describe('createRelayLauncher', () => {
  it('builds the process launcher', async () => {
    const launcher = await createRelayLauncher({
      kind: 'process',
      logger: () => {},
      parentEnv: { PATH: '/usr/bin' },
      command: ['/bin/true'],
    });
    expect(launcher).toBeInstanceOf(ProcessRelayLauncher);
    expect(launcher.kind).toBe('process');
    expect(await launcher.list()).toEqual([]);
    await launcher.close();
  });

  it('builds the Kubernetes launcher from a kubeconfig', async () => {
    const fake = await startFakeKubernetes();
    try {
      const launcher = await createRelayLauncher({
        kind: 'kubernetes',
        cluster: { kubeconfigPath: fake.kubeconfigPath },
        namespace: 'djcast',
        image: 'relay:1',
      });
      expect(launcher).toBeInstanceOf(KubernetesRelayLauncher);
      expect(await launcher.list()).toEqual([]);
      expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /api/v1/namespaces/djcast/pods 200']);
      await launcher.close();
    } finally {
      await fake.close();
    }
  });
});
