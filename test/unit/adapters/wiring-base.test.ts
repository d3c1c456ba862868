import { describe, expect, it } from 'vitest';
import { notInThisFunction } from '#adapters/wiring/base.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';

describe('notInThisFunction', () => {
  it('fails every call naming the port the function lacks', async () => {
    const artifacts = notInThisFunction<ExecutionDeps['artifacts']>('artifact store');
    await expect(artifacts.put('t', 'k', 'b')).rejects.toThrow(
      'Invalid Meridian configuration: this function has no artifact store',
    );
    await expect(artifacts.get('t', 'k')).rejects.toThrow(/no artifact store/);
  });

  it('is not a thenable, so wiring that awaits it does not hang', async () => {
    const port = notInThisFunction<object>('notifier');
    expect(await Promise.resolve(port)).toBe(port);
  });
});
