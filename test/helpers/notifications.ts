import type { QueuedEvent } from '#adapters/notifications/queues.ts';

/** A budget alert as the step runner queues it (functions/adapters/wiring/step-runner.ts), for tests. */
export function budgetAlert(patch: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    type: 'budget.threshold',
    tenantId: 'tabcdefghijklmnop',
    at: '2026-11-30T10:00:00.000Z',
    month: '2026-11',
    threshold: 80,
    spentMicros: 800_000,
    limitMicros: 1_000_000,
    ...patch,
  };
}
