import https from 'node:https';
import * as acme from 'acme-client';
import type { AccountKeyStore, CertificateIssuer, ChallengeStore, IssuedCertificate } from './types.js';

export interface AcmeIssuerOptions {
  /** Let's Encrypt production or staging, or Pebble in tests. */
  directoryUrl: string;
  /** Contact for the account (expiry notices from the CA). */
  email?: string;
  /** PEM of a CA to trust for the directory's own TLS (Pebble's test certificate). */
  directoryCa?: string;
  accounts: AccountKeyStore;
}

/**
 * Certificates through ACME (acme-client): one account key per directory,
 * kept in the account store; HTTP-01 answered from the challenge store by
 * the server's `/.well-known/acme-challenge/` route; a fresh key per certificate.
 */
export class AcmeCertificateIssuer implements CertificateIssuer {
  readonly kind = 'acme' as const;
  private client: Promise<acme.Client> | null = null;

  constructor(private readonly opts: AcmeIssuerOptions) {
    // acme-client's requests share one axios instance: trusting a private CA is set on it.
    if (opts.directoryCa) acme.axios.defaults.httpsAgent = new https.Agent({ ca: opts.directoryCa });
  }

  async issue(hostname: string, challenges: ChallengeStore): Promise<IssuedCertificate> {
    const client = await this.account();
    const [keyPem, csr] = await acme.crypto.createCsr({ commonName: hostname, altNames: [hostname] });
    const certPem = await client.auto({
      csr,
      email: this.opts.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA checks from outside; a self-check from here would go through our own DNS view.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
        await challenges.put(challenge.token, keyAuthorization, hostname);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        await challenges.remove(challenge.token);
      },
    });
    const info = acme.crypto.readCertificateInfo(certPem);
    return { certPem, keyPem: keyPem.toString(), notBefore: info.notBefore, notAfter: info.notAfter };
  }

  private account(): Promise<acme.Client> {
    this.client ??= (async () => {
      const stored = await this.opts.accounts.load(this.opts.directoryUrl);
      const keyPem = stored?.keyPem ?? (await acme.crypto.createPrivateKey()).toString();
      const client = new acme.Client({
        directoryUrl: this.opts.directoryUrl,
        accountKey: keyPem,
        accountUrl: stored?.accountUrl ?? undefined,
      });
      if (!stored) {
        await client.createAccount({
          termsOfServiceAgreed: true,
          ...(this.opts.email ? { contact: [`mailto:${this.opts.email}`] } : {}),
        });
        await this.opts.accounts.save(this.opts.directoryUrl, keyPem, client.getAccountUrl());
      }
      return client;
    })().catch((error) => {
      this.client = null;
      throw error;
    });
    return this.client;
  }
}
