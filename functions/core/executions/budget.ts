import type { AuditContext } from '../audit/audit.ts';
import { BudgetExceededError } from '../errors.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import { type Execution, usdOf } from './model.ts';

/** A tenant's monthly spending limit on model tokens, in integer USD micros. */
export interface Budget {
  readonly monthlyLimitMicros: number;
  /** Percentages of the limit at which an alert fires once a month (e.g. 50, 75, 90). */
  readonly alertThresholds: readonly number[];
  /** Refuse new executions (402) once the month's spend reaches the limit. */
  readonly hardStop: boolean;
  /**
   * What each start reserves against a hard-stop budget until the execution ends (its steps settle
   * the actual cost); absent: 1 % of the limit.
   */
  readonly reservePerExecutionMicros?: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** Persistence of the budget and of which alerts fired this month. */
export interface BudgetStore {
  getBudget(tenantId: string): Promise<Budget | undefined>;
  putBudget(tenantId: string, next: Budget, previous: Budget | undefined, audit: AuditContext): Promise<void>;
  /** The month's total spend so far, in micros (one read). */
  monthSpend(tenantId: string, month: string): Promise<number>;
  /** Records that `threshold` fired in `month`; false when it already had (so each fires once). */
  claimAlert(tenantId: string, month: string, threshold: number, at: string): Promise<boolean>;
  /** Thresholds that fired in `month`. */
  alerts(tenantId: string, month: string): Promise<number[]>;
}

/** Default alert thresholds, in percent of the limit. */
export const DEFAULT_THRESHOLDS = Object.freeze([50, 75, 90]);

/** `"12.5"` → 12_500_000 micros, exactly (no floating point). */
export function microsOfUsd(usd: string): number {
  const [whole = '0', fraction = ''] = usd.split('.');
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** What a start reserves: nothing without a hard stop, else the budget's estimate (default 1 % of the limit). */
export function reservationOf(budget: Budget | undefined): number {
  if (!budget?.hardStop) return 0;
  return budget.reservePerExecutionMicros ?? Math.ceil(budget.monthlyLimitMicros / 100);
}

/**
 * The highest month commitment (spend plus open reservations) at which a start still fits, or
 * undefined without a hard stop. A start that reserves nothing still needs one micro left, so a spent
 * budget refuses it.
 */
export function maxCommitmentFor(budget: Budget | undefined): number | undefined {
  if (!budget?.hardStop) return undefined;
  return budget.monthlyLimitMicros - Math.max(reservationOf(budget), 1);
}

/** The refusal of a start that does not fit a hard-stop budget. */
export function budgetExceeded(budget: Budget, committedMicros: number): BudgetExceededError {
  return new BudgetExceededError(
    `This month's budget of ${usdOf(budget.monthlyLimitMicros)} USD does not fit another execution (${usdOf(committedMicros)} USD spent or reserved); raise it or wait for next month.`,
  );
}

/**
 * How much a step's cost adds to the month's commitment: only the part beyond what its execution
 * reserved (the reservation already counts the rest).
 */
export function overrunOf(reservedMicros: number, costBeforeMicros: number, stepMicros: number): number {
  const beyond = (cost: number) => Math.max(0, cost - reservedMicros);
  return beyond(costBeforeMicros + stepMicros) - beyond(costBeforeMicros);
}

/** What the end of an execution gives back to the month: the part of its reservation it did not spend. */
export function releaseOf(reservedMicros: number, costMicros: number): number {
  return Math.max(0, reservedMicros - costMicros);
}

/**
 * What the end of a run gives back to the month, from the execution as its settlement found it.
 *
 * The run committed its reservation (`reservedMicros − reserveBaseMicros`) at its start; each step
 * committed its whole charge and then gave back the part the reservation covered, counted in
 * `givenBackMicros` by the same transaction. So the rest of the reservation is exactly what was not
 * given back, even when a give-back was lost (throttled, or the function died between the charge
 * and its give-back): the month ends committed by the run's cost. An execution started before
 * give-backs were counted settles by what it reserved and spent, as it did then.
 */
export function settlementOf(
  execution: Pick<Execution, 'reservedMicros' | 'reserveBaseMicros' | 'givenBackMicros' | 'costMicros'>,
): number {
  const reserved = execution.reservedMicros ?? 0;
  if (execution.givenBackMicros === undefined) return releaseOf(reserved, execution.costMicros);
  return Math.max(0, reserved - (execution.reserveBaseMicros ?? 0) - execution.givenBackMicros);
}

/** Thresholds reached at `spentMicros` (whether or not they already fired). */
export function reachedThresholds(budget: Budget, spentMicros: number): number[] {
  if (budget.monthlyLimitMicros <= 0) return [...budget.alertThresholds];
  return budget.alertThresholds.filter((t) => spentMicros * 100 >= budget.monthlyLimitMicros * t);
}

/** The API's view of a budget and this month's spend. */
export function budgetView(
  budget: Budget | undefined,
  month: string,
  spentMicros: number,
  fired: readonly number[],
) {
  return {
    configured: budget !== undefined,
    month,
    spentUsd: usdOf(spentMicros),
    ...(budget
      ? {
          monthlyLimitUsd: usdOf(budget.monthlyLimitMicros),
          alertThresholds: [...budget.alertThresholds],
          hardStop: budget.hardStop,
          reservePerExecutionUsd: usdOf(reservationOf({ ...budget, hardStop: true })),
          percentUsed:
            budget.monthlyLimitMicros > 0
              ? Math.round((spentMicros * 10_000) / budget.monthlyLimitMicros) / 100
              : null,
          alertsFired: [...fired].sort((a, b) => a - b),
          updatedAt: budget.updatedAt,
          updatedBy: budget.updatedBy,
        }
      : {}),
  };
}

/**
 * After a step was charged: fires each threshold the month's spend has reached, once per month.
 * `notify` is told of each newly fired one (the handler logs it and emits a metric for the alarm).
 */
/** A budget threshold the month's spend reached. */
export interface BudgetAlert {
  readonly tenantId: string;
  readonly month: string;
  readonly threshold: number;
  readonly spentMicros: number;
  readonly limitMicros: number;
}

export async function checkBudgetAlerts(
  store: Pick<BudgetStore, 'getBudget' | 'monthSpend' | 'claimAlert'>,
  tenantId: string,
  month: string,
  at: string,
  notify: (alert: BudgetAlert) => void | Promise<void>,
  /** The month's spend when the caller already knows it (the charge's atomic ADD returned it). */
  knownSpentMicros?: number,
  /** The budget when the caller read it already (`null`: it read that there is none). */
  knownBudget?: Budget | null,
): Promise<void> {
  const budget = knownBudget === undefined ? await store.getBudget(tenantId) : knownBudget;
  if (!budget || budget.alertThresholds.length === 0) return;
  const spentMicros = knownSpentMicros ?? (await store.monthSpend(tenantId, month));
  for (const threshold of reachedThresholds(budget, spentMicros)) {
    if (await store.claimAlert(tenantId, month, threshold, at)) {
      await notify({ tenantId, month, threshold, spentMicros, limitMicros: budget.monthlyLimitMicros });
    }
  }
}

/** Sets the tenant's budget (audited). Thresholds are kept sorted and unique. */
export async function setBudget(
  store: BudgetStore,
  caller: Caller,
  input: {
    monthlyLimitUsd: string;
    alertThresholds?: number[] | undefined;
    hardStop?: boolean | undefined;
    reservePerExecutionUsd?: string | undefined;
  },
): Promise<Budget> {
  const tenantId = caller.principal.tenantId;
  const previous = await store.getBudget(tenantId);
  const next: Budget = {
    monthlyLimitMicros: microsOfUsd(input.monthlyLimitUsd),
    alertThresholds: [
      ...new Set(input.alertThresholds ?? previous?.alertThresholds ?? DEFAULT_THRESHOLDS),
    ].sort((a, b) => a - b),
    hardStop: input.hardStop ?? previous?.hardStop ?? true,
    ...(input.reservePerExecutionUsd !== undefined
      ? { reservePerExecutionMicros: microsOfUsd(input.reservePerExecutionUsd) }
      : previous?.reservePerExecutionMicros !== undefined
        ? { reservePerExecutionMicros: previous.reservePerExecutionMicros }
        : {}),
    updatedAt: caller.meta.now,
    updatedBy: caller.principal.principalId,
  };
  await store.putBudget(
    tenantId,
    next,
    previous,
    audited(caller, {
      action: 'budget.set',
      resourceType: 'budget',
      resourceId: tenantId,
      ...(previous ? { before: previous } : {}),
      after: next,
    }),
  );
  return next;
}
