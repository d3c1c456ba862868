import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FunctionName } from '../../lib/aws-calls.ts';

/**
 * Which AWS calls each function makes on the local platform. With `MERIDIAN_LOCAL_CALL_LOG=<file>`,
 * the platform writes a line `<function> <command> <files>` the first time a function sends a
 * command from a place (the files under functions/ on the stack). On AWS each function may send
 * only what lib/aws-calls.ts grants it, and nothing local enforces IAM: the integration suite's log
 * is held to that list (test/calls/aws-calls.test.ts).
 */

const running = new AsyncLocalStorage<FunctionName>();

/** `handler` run as the function `name`: the AWS calls made while it runs are that function's. */
export function asFunction<A extends unknown[], R>(name: FunctionName, handler: (...args: A) => R) {
  return (...args: A): R => running.run(name, () => handler(...args));
}

/** `work` outside any function: what AWS does itself (Cognito making a federated user, say). */
export const asAws = <R>(work: () => R): R => running.exit(work);

let logFile: string | undefined;

/** Appends each function's first send of a command from a place to `file`; calls outside functions are not written. */
export function recordCalls(file: string): void {
  const patched = logFile !== undefined;
  logFile = file;
  if (patched) return;
  // Every SDK v3 client, the document client included, inherits `send` from smithy's one Client class.
  type Send = (this: unknown, command: object, ...rest: unknown[]) => unknown;
  const client: { send: Send } = Object.getPrototypeOf(DynamoDBClient.prototype);
  const send = client.send;
  const seen = new Set<string>();
  client.send = function (command, ...rest) {
    const fn = running.getStore();
    if (fn && logFile) {
      const line = `${fn} ${command.constructor.name} ${projectFrames().join(',')}`;
      if (!seen.has(line)) {
        seen.add(line);
        appendFileSync(logFile, `${line}\n`);
      }
    }
    return send.call(this, command, ...rest);
  };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The files under functions/ on the stack, innermost first: the adapter that sends the command and
 * its callers (V8 keeps awaiting callers as `at async` frames).
 */
function projectFrames(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const files = [...stack.replaceAll('file://', '').matchAll(/(\/[^\s():]+\.ts):\d+/g)]
    .map((match) => relative(ROOT, match[1] ?? ''))
    .filter((file) => file.startsWith('functions/'));
  return [...new Set(files)];
}

/** The lines {@link recordCalls} wrote: function, command, and the project files on the stack. */
export function parseCallLog(text: string): { fn: string; command: string; files: string[] }[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [fn = '', command = '', files = ''] = line.split(' ');
      return { fn, command, files: files.split(',').filter((file) => file !== '') };
    });
}
