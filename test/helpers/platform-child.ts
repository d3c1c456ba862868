/**
 * Runs one local platform in its own process for the tests (see platform-process.ts): the platform
 * sets process.env for the handlers, which must not leak into the test runner and its workers.
 * Reports `{ type: 'ready', apiUrl, demo, timings, endpoints }` over IPC, and stops when the parent disconnects or
 * sends SIGTERM.
 */
import { startLocalPlatform } from '../../bin/local/platform.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

try {
  const platform = await startLocalPlatform({ quiet: true });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void platform.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  send({
    type: 'ready',
    apiUrl: platform.apiUrl,
    demo: platform.demo,
    timings: platform.timings,
    endpoints: platform.endpoints,
  });
} catch (error) {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
