export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** What the mail is about, for the outbox and logs (relay.stalled, domain.verification_failed, ...). */
  kind: string;
}

export interface Mailer {
  readonly kind: 'outbox' | 'smtp';
  send(message: MailMessage): Promise<void>;
}
