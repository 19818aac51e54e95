/** Where the HTTP-01 answers live while an order is open: any replica serves them from here. */
export interface ChallengeStore {
  put(token: string, keyAuthorization: string, hostname: string): Promise<void>;
  remove(token: string): Promise<void>;
}

/** The ACME account key, kept across orders (sealed at rest by the caller's store). */
export interface AccountKeyStore {
  load(directoryUrl: string): Promise<{ keyPem: string; accountUrl: string | null } | null>;
  save(directoryUrl: string, keyPem: string, accountUrl: string | null): Promise<void>;
}

export interface IssuedCertificate {
  /** The leaf then its chain, PEM. */
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateIssuer {
  readonly kind: 'acme' | 'off';
  issue(hostname: string, challenges: ChallengeStore): Promise<IssuedCertificate>;
}

export class CertificatesNotConfigured extends Error {
  constructor() {
    super('certificates are not configured on this server (set DJCAST_ACME_DIRECTORY_URL)');
  }
}

/** No certificate authority configured: issuance fails with a reason the DJ can read. */
export class OffCertificateIssuer implements CertificateIssuer {
  readonly kind = 'off' as const;
  async issue(): Promise<IssuedCertificate> {
    throw new CertificatesNotConfigured();
  }
}
