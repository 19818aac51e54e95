import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../logger.js';
import type { Mailer, MailMessage } from './types.js';

/** Embedded default: mail lands in the outbox table and a log line; nothing leaves the machine. */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const id = newId('msg');
    await this.db
      .insertInto('outbox')
      .values({
        id,
        to_address: message.to,
        subject: message.subject,
        body_text: message.text,
        kind: message.kind,
        created_at: new Date().toISOString(),
        sent_at: null,
      })
      .execute();
    this.logger.info(
      { event: 'mail.outbox', mail_id: id, mail_kind: message.kind, to: message.to, subject: message.subject },
      'mail queued in outbox',
    );
  }
}
