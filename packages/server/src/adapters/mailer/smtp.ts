import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../logger.js';
import type { Mailer, MailMessage } from './types.js';

/** Production: SMTP through nodemailer (smtp:// or smtps:// URL with credentials). */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;
  constructor(
    url: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(message: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({ from: this.from, to: message.to, subject: message.subject, text: message.text });
    this.logger.info({ event: 'mail.sent', mail_kind: message.kind, message_id: info.messageId }, 'mail sent over SMTP');
  }
}
