import { describe, expect, it } from 'vitest';
import { BudgetExceededError } from '#core/errors.ts';
import {
  type Budget,
  budgetExceeded,
  budgetView,
  maxCommitmentFor,
  overrunOf,
  releaseOf,
  reservationOf,
  settlementOf,
} from '#core/executions/budget.ts';

const budget = (extra: Partial<Budget> = {}): Budget => ({
  monthlyLimitMicros: 1_000_000,
  alertThresholds: [50],
  hardStop: true,
  updatedAt: '2026-11-29T00:00:00.000Z',
  updatedBy: 'u1',
  ...extra,
});

describe('budget reservations', () => {
  it('reserves nothing without a budget or a hard stop, the estimate when set, else 1 % of the limit', () => {
    expect(reservationOf(undefined)).toBe(0);
    expect(reservationOf(budget({ hardStop: false, reservePerExecutionMicros: 5 }))).toBe(0);
    expect(reservationOf(budget({ reservePerExecutionMicros: 250_000 }))).toBe(250_000);
    expect(reservationOf(budget({ reservePerExecutionMicros: 0 }))).toBe(0);
    expect(reservationOf(budget())).toBe(10_000);
    expect(reservationOf(budget({ monthlyLimitMicros: 101 }))).toBe(2);
  });

  it('lets a start in while the commitment leaves room for its reservation, or one micro', () => {
    expect(maxCommitmentFor(undefined)).toBeUndefined();
    expect(maxCommitmentFor(budget({ hardStop: false }))).toBeUndefined();
    expect(maxCommitmentFor(budget({ reservePerExecutionMicros: 100_000 }))).toBe(900_000);
    expect(maxCommitmentFor(budget({ reservePerExecutionMicros: 0 }))).toBe(999_999);
    expect(maxCommitmentFor(budget({ monthlyLimitMicros: 0, reservePerExecutionMicros: 0 }))).toBe(-1);
  });

  it('grows the commitment only by the part of a step beyond the reservation', () => {
    expect(overrunOf(100, 0, 60)).toBe(0);
    expect(overrunOf(100, 60, 40)).toBe(0);
    expect(overrunOf(100, 60, 50)).toBe(10);
    expect(overrunOf(100, 120, 30)).toBe(30);
    expect(overrunOf(0, 0, 540)).toBe(540);
  });

  it('gives back the unspent reservation at the end, never more', () => {
    expect(releaseOf(100, 30)).toBe(70);
    expect(releaseOf(100, 100)).toBe(0);
    expect(releaseOf(100, 250)).toBe(0);
    expect(releaseOf(0, 0)).toBe(0);
  });

  it('settles a run from what its steps gave back, whatever the cost says', () => {
    // All given back as charged: 100 reserved, 130 spent, 100 given back.
    expect(settlementOf({ reservedMicros: 100, costMicros: 130, givenBackMicros: 100 })).toBe(0);
    // One give-back of 30 lost: the rest of the reservation goes back all the same.
    expect(settlementOf({ reservedMicros: 100, costMicros: 30, givenBackMicros: 0 })).toBe(100);
    // A redriven run began at 40 spent and reserved 100 on top.
    expect(
      settlementOf({ reservedMicros: 140, reserveBaseMicros: 40, costMicros: 70, givenBackMicros: 30 }),
    ).toBe(70);
    // Never below zero.
    expect(settlementOf({ reservedMicros: 10, costMicros: 0, givenBackMicros: 20 })).toBe(0);
    // Started before give-backs were counted: by what it reserved and spent, as then.
    expect(settlementOf({ reservedMicros: 100, costMicros: 30 })).toBe(70);
    expect(settlementOf({ reservedMicros: 100, reserveBaseMicros: 50, costMicros: 30 })).toBe(70);
    expect(settlementOf({ costMicros: 30 })).toBe(0);
  });

  it('refuses with a 402 error naming the limit and what is committed', () => {
    const error = budgetExceeded(budget(), 950_000);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.message).toContain('1.000000 USD');
    expect(error.message).toContain('0.950000 USD');
  });

  it('shows the reservation per execution in the budget view', () => {
    expect(budgetView(budget({ reservePerExecutionMicros: 50_000 }), '2026-11', 0, [])).toMatchObject({
      reservePerExecutionUsd: '0.050000',
    });
    expect(budgetView(budget({ hardStop: false }), '2026-11', 0, [])).toMatchObject({
      reservePerExecutionUsd: '0.010000',
    });
  });
});
