import type { Kysely, Transaction } from 'kysely';
import type { BillingEvent } from '../../adapters/billing/stripe.js';
import { connectedAccountState } from '../../adapters/billing/stripe-mapping.js';
import { BillingUnavailable, type BillingProvider, type ConnectedAccountState } from '../../adapters/billing/types.js';
import { DomainError } from '../../core/errors.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, PayoutAccountsTable } from '../../db/tables.js';
import type { Logger } from '../../logger.js';
import * as repo from './repository.js';
import type { PayoutAccountView, PayoutSetupView } from './schemas.js';

export interface PayoutsDeps {
  db: Kysely<Database>;
  provider: BillingProvider;
  logger: Logger;
  publicUrl: string;
  /** The platform's cut of each subscription paid to a DJ (shown to the DJ); null in local mode. */
  applicationFeePercent?: number | null | undefined;
  clock?: () => Date;
}

/**
 * DJs get paid through Stripe Connect (Express): each DJ has one connected
 * account, created on first setup and reused after; its state (charges and
 * payouts enabled, requirements due) is stored from Stripe's answers and
 * account.updated events, never rolled back by an older event. In local test
 * mode no money moves and no account is needed.
 */
export class PayoutsService {
  private readonly clock: () => Date;

  constructor(private readonly deps: PayoutsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Creates (or reuses) the DJ's connected account and answers a fresh onboarding link. */
  async setup(userId: string): Promise<PayoutSetupView> {
    const connect = this.deps.provider.payouts;
    if (!connect) {
      throw new DomainError(
        'conflict',
        'Billing runs in local test mode: no money moves, so no payout account is needed. Paid plans work without one.',
        { provider: 'local' },
      );
    }
    const row = await this.ensureAccount(userId);
    const url = await this.guard('creating the onboarding link', () =>
      connect.onboardingLink(row.account_id, {
        refreshUrl: `${this.deps.publicUrl}/payouts/refresh`,
        returnUrl: `${this.deps.publicUrl}/payouts/return`,
      }),
    );
    return { ...this.view(row), onboarding_url: url };
  }

  /** The DJ's payout status, read afresh from the provider when there is an account (the stored state if it is unreachable). */
  async status(userId: string): Promise<PayoutAccountView> {
    const connect = this.deps.provider.payouts;
    if (!connect) return this.localView();
    const row = await repo.findPayoutAccount(this.deps.db, userId);
    if (!row) return this.view(null);
    return this.view(await this.refresh(row).catch(() => row));
  }

  /**
   * Throws 409 (with a fresh onboarding link) unless the DJ may sell plans:
   * a connected account with charges enabled. Returns the account id the
   * plan's Stripe objects go on (null in local mode).
   */
  async accountForPlan(userId: string): Promise<string | null> {
    if (!this.deps.provider.payouts) return null;
    let row = await repo.findPayoutAccount(this.deps.db, userId);
    // Just back from onboarding, before the webhook: ask Stripe once rather than refuse.
    if (row && row.charges_enabled !== 1) row = await this.refresh(row);
    if (row && row.charges_enabled === 1) return row.account_id;
    const setup = await this.setup(userId);
    throw new DomainError(
      'payouts_required',
      row
        ? 'Your payout account cannot take charges yet: finish onboarding at the link, then try again.'
        : 'Connect a payout account before selling a paid plan: open the onboarding link, then try again.',
      {
        onboarding_url: setup.onboarding_url,
        account_id: setup.account_id,
        requirements_due: setup.requirements_due,
        setup: 'POST /v1/payouts/setup (djcast payouts setup)',
      },
    );
  }

  /** A Connect `account.updated` event, inside the webhook's transaction; true when it changed a stored account. */
  async applyAccountEvent(tx: Transaction<Database>, event: BillingEvent): Promise<boolean> {
    const state = connectedAccountState(event.object);
    const row = await repo.findPayoutAccountByAccountId(tx, state.accountId);
    if (!row) return false;
    if (row.provider_updated_at && Date.parse(row.provider_updated_at) > event.created.getTime()) {
      this.deps.logger.info(
        { event: 'billing.webhook_stale', stripe_event: event.id, account_id: state.accountId },
        'older stripe account event ignored',
      );
      return false;
    }
    await repo.updatePayoutAccount(tx, row.user_id, this.patch(state, event.created));
    this.deps.logger.info(
      { event: 'payouts.account_updated', user_id: row.user_id, charges_enabled: state.chargesEnabled },
      'payout account updated',
    );
    return true;
  }

  // ---- helpers

  private async ensureAccount(userId: string): Promise<PayoutAccountsTable> {
    const existing = await repo.findPayoutAccount(this.deps.db, userId);
    if (existing) return existing;
    const connect = this.deps.provider.payouts!;
    // Created at Stripe first (its idempotency key is the user id, so a retry gets the same account), then stored.
    const email = (await repo.findUserEmail(this.deps.db, userId)) ?? '';
    const state = await this.guard('creating the payout account', () => connect.createConnectedAccount({ userId, email }));
    const now = this.clock();
    await repo.insertPayoutAccount(this.deps.db, {
      user_id: userId,
      provider: 'stripe',
      account_id: state.accountId,
      created_at: nowIso(now),
      ...this.patch(state, now),
    });
    return (await repo.findPayoutAccount(this.deps.db, userId))!;
  }

  /** Reads the account from the provider and stores it; its state as of now outranks any older event. */
  private async refresh(row: PayoutAccountsTable): Promise<PayoutAccountsTable> {
    const connect = this.deps.provider.payouts!;
    const state = await this.guard('reading the payout account', () => connect.getConnectedAccount(row.account_id));
    const patch = this.patch(state, this.clock());
    await repo.updatePayoutAccount(this.deps.db, row.user_id, patch);
    return { ...row, ...patch };
  }

  private patch(state: ConnectedAccountState, at: Date) {
    return {
      charges_enabled: state.chargesEnabled ? 1 : 0,
      payouts_enabled: state.payoutsEnabled ? 1 : 0,
      details_submitted: state.detailsSubmitted ? 1 : 0,
      requirements_due: JSON.stringify(state.requirementsDue),
      disabled_reason: state.disabledReason,
      provider_updated_at: nowIso(at),
      updated_at: nowIso(this.clock()),
    };
  }

  private async guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      this.deps.logger.error({ event: 'billing.provider_failed', err: error, doing }, 'billing provider failed');
      throw new DomainError(
        'unavailable',
        error instanceof BillingUnavailable
          ? `The payment provider is unavailable (${doing}); nothing was changed. Try again shortly.`
          : `The payment provider refused ${doing}; nothing was changed.`,
        { headers: { 'Retry-After': '30' } },
      );
    }
  }

  private localView(): PayoutAccountView {
    return {
      provider: 'local',
      account_id: null,
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      requirements_due: [],
      disabled_reason: null,
      can_sell_paid_plans: true,
      application_fee_percent: null,
      updated_at: null,
    };
  }

  private view(row: PayoutAccountsTable | null): PayoutAccountView {
    return {
      provider: 'stripe',
      account_id: row?.account_id ?? null,
      charges_enabled: row?.charges_enabled === 1,
      payouts_enabled: row?.payouts_enabled === 1,
      details_submitted: row?.details_submitted === 1,
      requirements_due: row ? (JSON.parse(row.requirements_due) as string[]) : [],
      disabled_reason: row?.disabled_reason ?? null,
      can_sell_paid_plans: row?.charges_enabled === 1,
      application_fee_percent: this.deps.applicationFeePercent ?? null,
      updated_at: row?.updated_at ?? null,
    };
  }
}
