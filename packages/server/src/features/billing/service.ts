import type { Kysely } from 'kysely';
import type { BillingEvent } from '../../adapters/billing/stripe.js';
import { ourStatus, periodEnd } from '../../adapters/billing/stripe-mapping.js';
import {
  addInterval,
  BillingUnavailable,
  type BillingProvider,
  PaymentDeclined,
  type ProviderPlan,
} from '../../adapters/billing/types.js';
import type { Mailer } from '../../adapters/mailer/index.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, PlansTable, SubscriptionsTable } from '../../db/tables.js';
import { emitEvent } from '../../events/emit.js';
import type { PlayableResource } from '../../http/playback.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { DEFAULT_GRACE_MS, standing, unlocks } from './entitlement.js';
import type { PayoutsService } from './payouts.js';
import * as repo from './repository.js';
import type {
  CreatePlanRequest,
  CreateSubscriptionRequest,
  PlanView,
  PublicPlanView,
  SubscriptionView,
  UpdatePlanRequest,
} from './schemas.js';

export interface BillingDeps {
  db: Kysely<Database>;
  provider: BillingProvider;
  mailer: Mailer;
  jobs: Pick<JobQueue, 'wake'>;
  logger: Logger;
  publicUrl: string;
  clock?: () => Date;
  /** How long an active subscription keeps playing past its period end while its renewal is processed. */
  graceMs?: number;
  /** Verifies a provider webhook (Stripe's signature scheme); absent without a webhook secret. */
  verifyWebhook?: ((raw: string, signature: string | undefined) => BillingEvent) | undefined;
  /** The platform's cut of each subscription paid to a DJ's connected account (Stripe mode). */
  applicationFeePercent?: number | null | undefined;
}

/** What the paywall answers a caller it turns away with (the 403's problem fields). */
export interface PaywallDenial {
  detail: string;
  extra: Record<string, unknown>;
}

/** Plans, subscriptions, and the one paywall policy every kind of playback asks. */
export class BillingService {
  private readonly clock: () => Date;
  private readonly graceMs: number;

  constructor(
    private readonly deps: BillingDeps,
    /** DJs' connected accounts: a paid plan needs one that can take charges (Stripe mode). */
    private readonly payouts: PayoutsService,
  ) {
    this.clock = deps.clock ?? (() => new Date());
    this.graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  }

  get mode(): 'local' | 'stripe' {
    return this.deps.provider.kind;
  }

  // ---- plans

  async createPlan(principal: Principal, input: CreatePlanRequest): Promise<PlanView> {
    // Before anything is recorded: a DJ who cannot be paid gets 409 with the onboarding link.
    const account = await this.payouts.accountForPlan(principal.userId);
    const now = nowIso(this.clock());
    const row: PlansTable = {
      id: newId('pln'),
      owner_id: principal.userId,
      name: input.name,
      description: input.description ?? null,
      price_cents: input.price_cents,
      currency: input.currency,
      billing_interval: input.billing_interval,
      features: repo.featuresColumn(input.features),
      unlocks_all: input.unlocks === 'all' ? 1 : 0,
      unlocked_ids: JSON.stringify(input.unlocks === 'all' ? [] : [...new Set(input.unlocks)]),
      // Pending until the provider has the product and price: an outage leaves nothing sellable half-made.
      status: 'pending',
      provider: this.deps.provider.kind,
      provider_product_id: null,
      provider_price_id: null,
      provider_account_id: account,
      created_at: now,
      updated_at: now,
    };
    await repo.insertPlan(this.deps.db, row);
    let ids: { productId: string | null; priceId: string | null };
    try {
      ids = await this.deps.provider.createPlan(this.providerPlan(row));
    } catch (error) {
      await this.deps.db.deleteFrom('plans').where('id', '=', row.id).execute();
      throw this.providerFailure(error, 'creating the plan');
    }
    const confirmed: PlansTable = {
      ...row,
      status: 'active',
      provider_product_id: ids.productId,
      provider_price_id: ids.priceId,
    };
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updatePlan(tx, row.id, {
        status: 'active',
        provider_product_id: ids.productId,
        provider_price_id: ids.priceId,
      });
      await emitEvent(tx, { type: 'plan.created', ownerId: row.owner_id, object: this.planView(confirmed), now: this.clock() });
    });
    this.deps.jobs.wake();
    return this.planView(confirmed);
  }

  async listPlans(
    principal: Principal,
    opts: { limit: number; starting_after?: string | undefined; feature?: string | undefined },
  ) {
    const rows = await repo.listPlans(this.deps.db, {
      ownerId: isAdmin(principal) ? undefined : principal.userId,
      feature: opts.feature,
      startingAfter: opts.starting_after,
      limit: opts.limit + 1,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.planView(r)) };
  }

  async getPlan(principal: Principal, id: string): Promise<PlanView> {
    return this.planView(await this.getOwnedPlan(principal, id));
  }

  async updatePlan(principal: Principal, id: string, input: UpdatePlanRequest): Promise<PlanView> {
    const row = await this.getOwnedPlan(principal, id);
    if (row.status === 'archived') throw new DomainError('conflict', 'This plan is archived; create a new one.');
    const patch: Partial<PlansTable> = { updated_at: nowIso(this.clock()) };
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description;
    if (input.features !== undefined) patch.features = repo.featuresColumn(input.features);
    if (input.unlocks !== undefined) {
      patch.unlocks_all = input.unlocks === 'all' ? 1 : 0;
      patch.unlocked_ids = JSON.stringify(input.unlocks === 'all' ? [] : [...new Set(input.unlocks)]);
    }
    if (input.price_cents !== undefined && input.price_cents !== row.price_cents) {
      // The new price goes on the plan's account, which must still be able to take charges.
      await this.payouts.accountForPlan(row.owner_id);
      // A new price for new subscribers; the old one is archived and existing subscriptions keep it.
      const changed = { ...row, price_cents: input.price_cents };
      try {
        const { priceId } = await this.deps.provider.replacePrice(
          this.providerPlan(changed),
          row.provider_product_id,
          row.provider_price_id,
        );
        patch.price_cents = input.price_cents;
        patch.provider_price_id = priceId;
      } catch (error) {
        throw this.providerFailure(error, 'changing the price');
      }
    }
    const updated = { ...row, ...patch } as PlansTable;
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updatePlan(tx, id, patch);
      await emitEvent(tx, { type: 'plan.updated', ownerId: row.owner_id, object: this.planView(updated), now: this.clock() });
    });
    this.deps.jobs.wake();
    return this.planView(updated);
  }

  /** Archives the plan: no new subscriptions; existing ones run on until they end. */
  async deletePlan(principal: Principal, id: string): Promise<void> {
    const row = await this.getOwnedPlan(principal, id);
    if (row.status === 'archived') return;
    try {
      await this.deps.provider.archivePlan(this.providerPlan(row), row.provider_product_id, row.provider_price_id);
    } catch (error) {
      throw this.providerFailure(error, 'archiving the plan');
    }
    const archived: PlansTable = { ...row, status: 'archived', updated_at: nowIso(this.clock()) };
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updatePlan(tx, id, { status: 'archived', updated_at: archived.updated_at });
      await emitEvent(tx, { type: 'plan.updated', ownerId: row.owner_id, object: this.planView(archived), now: this.clock() });
    });
    this.deps.jobs.wake();
  }

  /** A DJ's plans on sale, for listeners (no sign-in). */
  async publicPlans(djId: string): Promise<{ data: PublicPlanView[] }> {
    const rows = await repo.listPlans(this.deps.db, { ownerId: djId, status: 'active', limit: 100 });
    return { data: rows.map((r) => this.publicPlanView(r)) };
  }

  /** A plan on sale, as anyone may see it (the web subscribe form); null when it is not on sale. */
  async planOnSale(id: string): Promise<PublicPlanView | null> {
    const row = await repo.findPlan(this.deps.db, id);
    return row && row.status === 'active' ? this.publicPlanView(row) : null;
  }

  // ---- subscriptions

  /** `returnUrl`: where Checkout sends the listener back (the web subscribe flow: the page they came from). */
  async createSubscription(
    principal: Principal,
    input: CreateSubscriptionRequest,
    options: { returnUrl?: string } = {},
  ): Promise<SubscriptionView> {
    const plan = await repo.findPlan(this.deps.db, input.plan_id);
    if (!plan || plan.status === 'pending') throw new NotFound('Plan', input.plan_id);
    if (plan.status === 'archived') throw new DomainError('conflict', 'This plan is no longer on sale.', { plan_id: plan.id });
    if (plan.owner_id === principal.userId) throw new DomainError('conflict', 'You cannot subscribe to your own plan.');
    const existing = (await repo.subscriptionsToDj(this.deps.db, principal.userId, plan.owner_id)).find(
      (s) => s.plan_id === plan.id && ['active', 'pending', 'incomplete', 'past_due'].includes(s.status),
    );
    if (existing) {
      throw new DomainError('conflict', 'You already have a subscription to this plan.', { subscription_id: existing.id });
    }
    const now = nowIso(this.clock());
    const row: SubscriptionsTable = {
      id: newId('sub'),
      plan_id: plan.id,
      listener_id: principal.userId,
      dj_id: plan.owner_id,
      status: 'pending',
      price_cents: plan.price_cents,
      currency: plan.currency,
      billing_interval: plan.billing_interval,
      cancel_at_period_end: 0,
      current_period_end: null,
      canceled_at: null,
      provider: this.deps.provider.kind,
      provider_customer_id: null,
      provider_subscription_id: null,
      checkout_url: null,
      provider_updated_at: null,
      provider_account_id: plan.provider_account_id,
      created_at: now,
      updated_at: now,
    };
    // Recorded as pending first: if the provider fails, the row says so and opens nothing.
    await repo.insertSubscription(this.deps.db, row);
    let created;
    try {
      created = await this.deps.provider.createSubscription({
        subscriptionId: row.id,
        listenerId: principal.userId,
        listenerEmail: (await repo.findUserEmail(this.deps.db, principal.userId)) ?? '',
        customerId: null,
        priceId: plan.provider_price_id,
        plan: this.providerPlan(plan),
        paymentMethodId: input.payment_method_id ?? null,
        returnUrl: options.returnUrl ?? `${this.deps.publicUrl}/v1/subscriptions/${row.id}`,
      });
    } catch (error) {
      await this.deps.db.deleteFrom('subscriptions').where('id', '=', row.id).execute();
      throw this.providerFailure(error, 'creating the subscription');
    }
    const confirmed: SubscriptionsTable = {
      ...row,
      status: created.status,
      provider_customer_id: created.customerId,
      provider_subscription_id: created.subscriptionId,
      checkout_url: created.checkoutUrl,
      current_period_end: created.currentPeriodEnd ? nowIso(created.currentPeriodEnd) : null,
    };
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updateSubscription(tx, row.id, {
        status: confirmed.status,
        provider_customer_id: confirmed.provider_customer_id,
        provider_subscription_id: confirmed.provider_subscription_id,
        checkout_url: confirmed.checkout_url,
        current_period_end: confirmed.current_period_end,
      });
      await emitEvent(tx, {
        type: 'subscription.created',
        ownerId: plan.owner_id,
        object: this.subscriptionView(confirmed),
        now: this.clock(),
      });
    });
    this.deps.jobs.wake();
    this.deps.logger.info(
      { event: 'subscription.created', subscription_id: row.id, plan_id: plan.id, status: confirmed.status },
      'subscription created',
    );
    return this.subscriptionView(confirmed);
  }

  async listSubscriptions(
    principal: Principal,
    opts: { limit: number; starting_after?: string | undefined; role: 'listener' | 'dj' },
  ) {
    const rows = await repo.listSubscriptions(this.deps.db, {
      ...(opts.role === 'dj' ? { djId: principal.userId } : { listenerId: principal.userId }),
      startingAfter: opts.starting_after,
      limit: opts.limit + 1,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.subscriptionView(r)) };
  }

  async getSubscription(principal: Principal, id: string): Promise<SubscriptionView> {
    return this.subscriptionView(await this.getVisibleSubscription(principal, id));
  }

  async cancelSubscription(principal: Principal, id: string, atPeriodEnd: boolean): Promise<SubscriptionView> {
    const row = await this.getVisibleSubscription(principal, id);
    if (row.listener_id !== principal.userId && !isAdmin(principal)) {
      throw new DomainError('not_owner', 'Only the subscriber can cancel this subscription.');
    }
    if (row.status === 'canceled') return this.subscriptionView(row);
    try {
      await this.deps.provider.cancelSubscription(
        { subscriptionId: row.provider_subscription_id, account: row.provider_account_id },
        atPeriodEnd,
      );
    } catch (error) {
      throw this.providerFailure(error, 'canceling the subscription');
    }
    const now = nowIso(this.clock());
    const patch: Partial<SubscriptionsTable> = atPeriodEnd
      ? { cancel_at_period_end: 1, updated_at: now }
      : { status: 'canceled', canceled_at: now, updated_at: now };
    return this.applyChange(row, patch);
  }

  async portalLink(principal: Principal, id: string): Promise<{ url: string; provider: 'local' | 'stripe' }> {
    const row = await this.getVisibleSubscription(principal, id);
    if (row.listener_id !== principal.userId && !isAdmin(principal)) {
      throw new DomainError('not_owner', 'Only the subscriber can manage this subscription.');
    }
    try {
      const url = await this.deps.provider.portalUrl(
        { customerId: row.provider_customer_id, account: row.provider_account_id, subscriptionId: row.id },
        `${this.deps.publicUrl}/v1/subscriptions/${row.id}`,
      );
      return { url, provider: this.deps.provider.kind };
    } catch (error) {
      throw this.providerFailure(error, 'opening the billing portal');
    }
  }

  /** Test mode only: moves a local subscription to a state (what Stripe's webhooks do in production). */
  async setLocalState(principal: Principal, id: string, status: 'active' | 'past_due' | 'unpaid' | 'expired' | 'canceled') {
    const row = await this.getVisibleSubscription(principal, id);
    if (row.provider !== 'local' || this.deps.provider.kind !== 'local') {
      throw new DomainError('conflict', 'Only local test-mode subscriptions can be moved by hand; Stripe drives this one.');
    }
    const now = this.clock();
    const patch: Partial<SubscriptionsTable> = { status, updated_at: nowIso(now) };
    if (status === 'canceled') patch.canceled_at = nowIso(now);
    if (status === 'active') {
      patch.canceled_at = null;
      patch.cancel_at_period_end = 0;
      patch.current_period_end = nowIso(addInterval(now, row.billing_interval));
    }
    if (status === 'past_due') await this.mailPaymentFailed(row);
    return this.applyChange(row, patch);
  }

  // ---- provider webhooks

  /**
   * One Stripe webhook delivery: verified, recorded by event id (a replay is a
   * no-op), applied unless the subscription already holds a newer state.
   */
  async handleWebhook(raw: string, signature: string | undefined): Promise<{ received: true; duplicate: boolean }> {
    const verify = this.deps.verifyWebhook;
    if (!verify) throw new DomainError('not_found', 'Stripe webhooks are not configured on this server.');
    let event: BillingEvent;
    try {
      event = verify(raw, signature);
    } catch (error) {
      this.deps.logger.warn({ event: 'billing.webhook_rejected', reason: (error as Error).message }, 'stripe webhook rejected');
      throw new DomainError('validation_failed', 'The Stripe-Signature is missing, invalid or outside the tolerance window.', {
        errors: [{ path: 'stripe-signature', message: 'invalid signature', code: 'invalid_signature' }],
      });
    }
    const now = nowIso(this.clock());
    let mailTo: SubscriptionsTable | null = null;
    let changed: SubscriptionsTable | null = null;
    const fresh = await this.deps.db.transaction().execute(async (tx) => {
      if (!(await repo.recordBillingEvent(tx, event.id, event.type, now))) return false;
      // Connect: a DJ's payout account changed (charges or payouts enabled, requirements due).
      if (event.type === 'account.updated') {
        await this.payouts.applyAccountEvent(tx, event);
        return true;
      }
      const update = await this.eventToChange(tx, event);
      if (!update) return true;
      const { row, patch } = update;
      // Out of order: an event older than the state we hold never rolls it back.
      if (row.provider_updated_at && Date.parse(row.provider_updated_at) > event.created.getTime()) {
        this.deps.logger.info(
          { event: 'billing.webhook_stale', stripe_event: event.id, subscription_id: row.id },
          'older stripe event ignored',
        );
        return true;
      }
      const full = { ...patch, provider_updated_at: nowIso(event.created), updated_at: now };
      await repo.updateSubscription(tx, row.id, full);
      changed = { ...row, ...full } as SubscriptionsTable;
      await emitEvent(tx, {
        type: 'subscription.updated',
        ownerId: row.dj_id,
        object: this.subscriptionView(changed),
        now: this.clock(),
      });
      if (patch.status === 'past_due' && row.status !== 'past_due') mailTo = changed;
      return true;
    });
    if (changed) this.deps.jobs.wake();
    if (mailTo) await this.mailPaymentFailed(mailTo);
    return { received: true, duplicate: !fresh };
  }

  /** What a Stripe event changes, and on which subscription; null for events we do not act on. */
  private async eventToChange(
    tx: Kysely<Database>,
    event: BillingEvent,
  ): Promise<{ row: SubscriptionsTable; patch: Partial<SubscriptionsTable> } | null> {
    const o = event.object;
    const byStripeId = async (id: unknown) =>
      typeof id === 'string' ? ((await repo.findSubscriptionByProviderId(tx, id)) ?? null) : null;
    switch (event.type) {
      case 'checkout.session.completed': {
        const row =
          typeof o.client_reference_id === 'string' ? await repo.findSubscription(tx, o.client_reference_id) : undefined;
        if (!row) return null;
        return {
          row,
          patch: {
            provider_subscription_id: typeof o.subscription === 'string' ? o.subscription : row.provider_subscription_id,
            provider_customer_id: typeof o.customer === 'string' ? o.customer : row.provider_customer_id,
            checkout_url: null,
            ...(o.payment_status === 'paid' ? { status: 'active' as const } : {}),
          },
        };
      }
      case 'invoice.paid':
      case 'invoice.payment_failed': {
        const subId = o.parent?.subscription_details?.subscription ?? o.subscription;
        const row = await byStripeId(subId);
        if (!row) return null;
        const end = o.lines?.data?.[0]?.period?.end;
        return {
          row,
          patch:
            event.type === 'invoice.paid'
              ? { status: 'active', ...(typeof end === 'number' ? { current_period_end: nowIso(new Date(end * 1000)) } : {}) }
              : { status: 'past_due' },
        };
      }
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const row = await byStripeId(o.id);
        if (!row) return null;
        const end = periodEnd(o);
        return {
          row,
          patch: {
            status: event.type === 'customer.subscription.deleted' ? 'canceled' : ourStatus(String(o.status)),
            cancel_at_period_end: o.cancel_at_period_end ? 1 : 0,
            ...(end ? { current_period_end: nowIso(end) } : {}),
            ...(event.type === 'customer.subscription.deleted' ? { canceled_at: nowIso(event.created) } : {}),
          },
        };
      }
      default:
        return null;
    }
  }

  // ---- the paywall

  /** Whether a signed-in listener's subscriptions open this resource of its DJ. */
  async allows(principal: Principal, resource: PlayableResource): Promise<boolean> {
    if (principal.userId === resource.ownerId || isAdmin(principal)) return true;
    const now = this.clock();
    const subs = await repo.subscriptionsToDj(this.deps.db, principal.userId, resource.ownerId);
    return subs.some((s) => standing(s, now, this.graceMs) === 'entitled' && unlocks(s, resource));
  }

  async allowsUser(userId: string, resource: { id: string; ownerId: string; monetized: boolean }): Promise<boolean> {
    if (userId === resource.ownerId) return true;
    const now = this.clock();
    const subs = await repo.subscriptionsToDj(this.deps.db, userId, resource.ownerId);
    if (subs.some((s) => standing(s, now, this.graceMs) === 'entitled' && unlocks(s, resource))) return true;
    // Personal feeds and enclosures carry a user id, not a principal: admins are recognised by their role.
    return (await repo.findUserRole(this.deps.db, userId)) === 'admin';
  }

  /** Whether the listener holds a standing subscription to one of the DJ's plans with this feature (e.g. ad-free). */
  async hasFeature(userId: string, djOwnerId: string, feature: string): Promise<boolean> {
    const now = this.clock();
    const subs = await repo.subscriptionsToDj(this.deps.db, userId, djOwnerId);
    return subs.some((s) => standing(s, now, this.graceMs) === 'entitled' && repo.readFeatures(s.features).includes(feature));
  }

  /** The DJ's plans on sale that unlock the resource (the paywall's 403 and the listener pages list them). */
  async plansUnlocking(resource: { id: string; ownerId: string; monetized: boolean }) {
    const rows = await repo.listPlans(this.deps.db, { ownerId: resource.ownerId, status: 'active', limit: 100 });
    return rows.filter((p) => unlocks(p, resource)).map((p) => this.publicPlanView(p));
  }

  /** Why the caller is turned away, and where to go: the plans that unlock it, or the renewal of a lapsed subscription. */
  async denial(
    userId: string | null,
    resource: { id: string; ownerId: string; monetized: boolean },
    what: string,
  ): Promise<PaywallDenial> {
    const plans = (await this.plansUnlocking(resource)).map((v) => ({
      id: v.id,
      name: v.name,
      price_cents: v.price_cents,
      currency: v.currency,
      billing_interval: v.billing_interval,
      subscribe_url: v.subscribe_url,
    }));
    const extra: Record<string, unknown> = {
      resource_id: resource.id,
      plans,
      subscribe_url: `${this.deps.publicUrl}/v1/djs/${resource.ownerId}/plans`,
      reason: userId ? 'no_subscription' : 'not_signed_in',
    };
    if (userId) {
      const now = this.clock();
      const subs = await repo.subscriptionsToDj(this.deps.db, userId, resource.ownerId);
      const lapsed = subs.find((s) => unlocks(s, resource) && standing(s, now, this.graceMs) === 'renew');
      if (lapsed) {
        const reason = lapsed.status === 'active' ? 'expired' : lapsed.status;
        return {
          detail: `Your subscription ${lapsed.id} is ${reason.replace('_', ' ')}: renew it to listen to this ${what}.`,
          extra: {
            ...extra,
            reason,
            subscription_id: lapsed.id,
            renew_url: `${this.deps.publicUrl}/v1/subscriptions/${lapsed.id}/portal`,
          },
        };
      }
    }
    return {
      detail:
        plans.length > 0
          ? `This ${what} is for subscribers of ${plans.map((p) => p.name).join(', ')}. Subscribe to listen.`
          : `This ${what} is for subscribers. Subscribe to the DJ's plan to listen.`,
      extra,
    };
  }

  // ---- helpers

  private async applyChange(row: SubscriptionsTable, patch: Partial<SubscriptionsTable>): Promise<SubscriptionView> {
    const updated = { ...row, ...patch } as SubscriptionsTable;
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updateSubscription(tx, row.id, patch);
      await emitEvent(tx, {
        type: 'subscription.updated',
        ownerId: row.dj_id,
        object: this.subscriptionView(updated),
        now: this.clock(),
      });
    });
    this.deps.jobs.wake();
    this.deps.logger.info(
      {
        event: 'subscription.updated',
        subscription_id: row.id,
        status: updated.status,
        cancel_at_period_end: updated.cancel_at_period_end === 1,
      },
      'subscription updated',
    );
    return this.subscriptionView(updated);
  }

  async mailPaymentFailed(row: SubscriptionsTable): Promise<void> {
    const email = await repo.findUserEmail(this.deps.db, row.listener_id);
    if (!email) return;
    await this.deps.mailer.send({
      to: email,
      kind: 'subscription.payment_failed',
      subject: 'Your djcast subscription payment failed',
      text:
        `The latest payment for your subscription ${row.id} failed, so it is past due and its content is paused.\n` +
        `Update your card to renew it: ${this.deps.publicUrl}/v1/subscriptions/${row.id}/portal\n`,
    });
  }

  private async getOwnedPlan(principal: Principal, id: string): Promise<PlansTable> {
    const row = await repo.findPlan(this.deps.db, id);
    if (!row || row.status === 'pending') throw new NotFound('Plan', id);
    assertCanAccess(principal, row.owner_id, 'plan');
    return row;
  }

  /** The subscriber, the plan's DJ and admins may see a subscription; everyone else gets 403. */
  private async getVisibleSubscription(principal: Principal, id: string): Promise<SubscriptionsTable> {
    const row = await repo.findSubscription(this.deps.db, id);
    if (!row) throw new NotFound('Subscription', id);
    if (row.listener_id !== principal.userId && row.dj_id !== principal.userId && !isAdmin(principal)) {
      throw new DomainError('not_owner', 'This subscription belongs to another user.');
    }
    return row;
  }

  private providerPlan(row: PlansTable): ProviderPlan {
    return {
      planId: row.id,
      name: row.name,
      priceCents: row.price_cents,
      currency: row.currency,
      interval: row.billing_interval,
      account: row.provider_account_id,
    };
  }

  private providerFailure(error: unknown, doing: string): DomainError {
    if (error instanceof DomainError) return error;
    if (error instanceof PaymentDeclined) {
      // The listener's card, not our fault or the provider's: no alarm, and no retry that would fail alike.
      this.deps.logger.info({ event: 'billing.payment_declined', decline_code: error.declineCode, doing }, 'card declined');
      return new DomainError(
        'payment_declined',
        `The card was declined (${error.message}); nothing was charged and nothing was created. Try another card.`,
        { decline_code: error.declineCode },
      );
    }
    this.deps.logger.error({ event: 'billing.provider_failed', err: error, doing }, 'billing provider failed');
    const outage = error instanceof BillingUnavailable;
    return new DomainError(
      'unavailable',
      outage
        ? `The payment provider is unavailable (${doing}); nothing was changed. Try again shortly.`
        : `The payment provider refused ${doing}; nothing was changed.`,
      { headers: { 'Retry-After': '30' } },
    );
  }

  planView(row: PlansTable): PlanView {
    return {
      id: row.id,
      owner_id: row.owner_id,
      name: row.name,
      description: row.description,
      price_cents: row.price_cents,
      currency: row.currency,
      billing_interval: row.billing_interval,
      features: repo.readFeatures(row.features),
      unlocks: row.unlocks_all === 1 ? 'all' : (JSON.parse(row.unlocked_ids) as string[]),
      status: row.status,
      provider: row.provider,
      provider_product_id: row.provider_product_id,
      provider_price_id: row.provider_price_id,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  private publicPlanView(row: PlansTable): PublicPlanView {
    const v = this.planView(row);
    return {
      id: v.id,
      owner_id: v.owner_id,
      name: v.name,
      description: v.description,
      price_cents: v.price_cents,
      currency: v.currency,
      billing_interval: v.billing_interval,
      features: v.features,
      unlocks: v.unlocks,
      provider: v.provider,
      subscribe_url: `${this.deps.publicUrl}/v1/subscriptions`,
    };
  }

  subscriptionView(row: SubscriptionsTable): SubscriptionView {
    return {
      id: row.id,
      plan_id: row.plan_id,
      listener_id: row.listener_id,
      dj_id: row.dj_id,
      status: row.status,
      entitled: standing(row, this.clock(), this.graceMs) === 'entitled',
      price_cents: row.price_cents,
      currency: row.currency,
      billing_interval: row.billing_interval,
      cancel_at_period_end: row.cancel_at_period_end === 1,
      current_period_end: row.current_period_end,
      canceled_at: row.canceled_at,
      checkout_url: row.checkout_url,
      provider: row.provider,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}
