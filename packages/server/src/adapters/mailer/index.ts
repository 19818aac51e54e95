export type { Mailer, MailMessage } from './types.js';
export { OutboxMailer } from './outbox.js';
// SmtpMailer (./smtp.js) is imported by the composition root only when mail goes over SMTP.
export type { SmtpMailer } from './smtp.js';
