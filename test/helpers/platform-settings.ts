/**
 * Settings the integration global setup starts the local platform with (test/integration/global-setup.ts),
 * shared with the tests that depend on them.
 */

/** Wait states and retry pauses of workflows last at most this long locally (ms). */
export const TEST_MAX_WAIT_MS = 50;

/** Consecutive retryable provider failures that open a circuit breaker. */
export const TEST_CIRCUIT_FAILURE_THRESHOLD = 3;

/** How long an open circuit fails fast before a probe call may close it (ms). */
export const TEST_CIRCUIT_COOLDOWN_MS = 1_500;

/** The audit stream consumer's interval in tests (seconds): digests follow mutations quickly. */
export const TEST_AUDIT_DIGEST_INTERVAL_SECONDS = 1;

/** Pause before a notification's second delivery attempt (ms); later ones double it. */
export const TEST_NOTIFICATION_RETRY_BASE_MS = 50;
/**
 * croner's seconds field for schedules in tests: an every-minute schedule fires every 2 seconds
 * (the platform also delivers each firing twice, see global-setup.ts).
 */
export const TEST_SCHEDULE_SECONDS = '*/2';
