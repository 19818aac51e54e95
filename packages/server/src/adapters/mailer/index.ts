export type { Mailer, MailMessage } from './types.js';
export { OutboxMailer } from './outbox.js';
export { SmtpMailer } from './smtp.js';
