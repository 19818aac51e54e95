import { FANOUT_EVENT } from '../../events/emit.js';
import { defineJob, type JobDefinition } from '../../jobs/definition.js';
import { DELIVER_WEBHOOK } from './delivery-job.js';
import type { WebhooksService } from './service.js';

export { DELIVER_WEBHOOK };

/** The handler of the outbox's fan-out job (declared in events/, where emitEvent enqueues it). */
export function fanOutEventJob(service: WebhooksService): JobDefinition<{ event_id: string }> {
  return defineJob(FANOUT_EVENT, { run: (payload) => service.fanOut(payload.event_id) });
}

export function deliverWebhookJob(service: WebhooksService): JobDefinition<{ delivery_id: string }> {
  return defineJob(DELIVER_WEBHOOK, {
    run: (payload, ctx) => service.deliver(payload.delivery_id, ctx),
    // Attempts are rescheduled by the handler; the job itself only fails when the worker could not finish it
    // (a database error, repeated crashes). Then the delivery is given up, so later events of its object move on.
    onFinalFailure: (payload, error, ctx) => service.abandon(payload.delivery_id, error, ctx.logger),
  });
}
