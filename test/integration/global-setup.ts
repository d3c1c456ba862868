import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { callLogPath } from '../helpers/call-log.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { startPlatformProcess } from '../helpers/platform-process.ts';
import {
  TEST_AUDIT_DIGEST_INTERVAL_SECONDS,
  TEST_CIRCUIT_COOLDOWN_MS,
  TEST_CIRCUIT_FAILURE_THRESHOLD,
  TEST_MAX_WAIT_MS,
  TEST_NOTIFICATION_RETRY_BASE_MS,
  TEST_SCHEDULE_SECONDS,
} from '../helpers/platform-settings.ts';

/**
 * How long the test platform's authorizer trusts a resolved credential: short, so revocation,
 * disabling and suspension tests wait about a second instead of the default 30.
 */
const TEST_AUTH_CACHE_TTL_SECONDS = 1;

/**
 * Starts one local platform for the integration project: a fresh state dir, free ports, quiet. It
 * runs in a child process because the platform sets process.env for the handlers, and vitest copies
 * its own process.env into every worker of every project (unit tests would see MERIDIAN_MODE=local).
 * Its output also goes to a log file (`inject('platformLogFile')`) so tests can assert what never
 * reaches the logs. Set MERIDIAN_TEST_KEEP_STATE=1 to keep the state dir for inspection.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-it-'));
  // Email domains are verified by TXT records: the platform asks this server, which answers from
  // files the tests write (test/helpers/dns-zone.ts).
  const dnsZoneDir = join(stateDir, 'dns');
  await mkdir(dnsZoneDir);
  const dns = await startDnsServer({ zoneDir: dnsZoneDir });
  // Every AWS call the functions make, per function, for the calls project (test/calls/).
  const callLog = callLogPath();
  await rm(callLog, { force: true });
  const platform = await startPlatformProcess(stateDir, {
    DNS_SERVERS: dns.address,
    MERIDIAN_LOCAL_CALL_LOG: callLog,
    AUTH_CACHE_TTL_SECONDS: String(TEST_AUTH_CACHE_TTL_SECONDS),
    // INFO (not quiet mode's WARN): refused credentials are logged, so the log file demonstrably
    // receives handler logs when tests assert that secrets never reach it.
    POWERTOOLS_LOG_LEVEL: 'INFO',
    // Workflow Wait states and retry pauses last milliseconds, and provider circuit breakers open
    // after a few failures and cool down quickly, so execution tests stay fast.
    MERIDIAN_LOCAL_MAX_WAIT_MS: String(TEST_MAX_WAIT_MS),
    CIRCUIT_FAILURE_THRESHOLD: String(TEST_CIRCUIT_FAILURE_THRESHOLD),
    CIRCUIT_COOLDOWN_MS: String(TEST_CIRCUIT_COOLDOWN_MS),
    AUDIT_DIGEST_INTERVAL_SECONDS: String(TEST_AUDIT_DIGEST_INTERVAL_SECONDS),
    // Notification retries follow each other in milliseconds, so five attempts take well under a second.
    NOTIFICATION_RETRY_BASE_MS: String(TEST_NOTIFICATION_RETRY_BASE_MS),
    // Schedules fire on croner's seconds field every 2 s instead of once a minute, and each firing
    // is delivered twice (EventBridge delivers at least once), so tests see firings and their
    // idempotency in seconds.
    MERIDIAN_LOCAL_SCHEDULE_SECONDS: TEST_SCHEDULE_SECONDS,
    MERIDIAN_LOCAL_SCHEDULE_DELIVERIES: '2',
  });
  const logFile = join(stateDir, 'platform-output.log');
  writeFileSync(logFile, platform.output());
  const append = (chunk: Buffer): void => appendFileSync(logFile, chunk);
  platform.child.stdout?.on('data', append);
  platform.child.stderr?.on('data', append);
  project.provide('apiUrl', platform.apiUrl);
  project.provide('demo', platform.demo);
  project.provide('dynamodbEndpoint', platform.endpoints.dynamodb);
  project.provide('s3Endpoint', platform.endpoints.s3);
  project.provide('platformLogFile', logFile);
  project.provide('stateDir', stateDir);
  project.provide('dnsZoneDir', dnsZoneDir);
  project.provide('authCacheTtlSeconds', TEST_AUTH_CACHE_TTL_SECONDS);
  if (process.env.MERIDIAN_TEST_TIMINGS) {
    console.log(
      `local platform: /health after ${platform.timings.healthMs} ms, ready after ${platform.timings.readyMs} ms`,
    );
  }
  return async () => {
    await platform.stop();
    await dns.close();
    if (process.env.MERIDIAN_TEST_LOGS) console.log(platform.output());
    if (!process.env.MERIDIAN_TEST_KEEP_STATE) await rm(stateDir, { recursive: true, force: true });
    await rm(callLog, { force: true });
  };
}
