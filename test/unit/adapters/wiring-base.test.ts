import { describe, expect, it } from 'vitest';
import { notInThisFunction, partOf } from '#adapters/wiring/base.ts';
import type { ExecutionDeps } from '#core/executions/deps.ts';
import type { ExecutionStore } from '#core/executions/ports.ts';

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

describe('partOf', () => {
  it('answers with the part where it has the method, bound to it, and fails the rest naming the port', async () => {
    // Prepare: a part whose method reads its own state (a lost `this` would throw).
    class Starts {
      private readonly seen: string[] = [];
      async get(tenantId: string, executionId: string) {
        this.seen.push(`${tenantId}/${executionId}`);
        return undefined;
      }
      calls() {
        return this.seen;
      }
    }
    const part = new Starts();
    const store = partOf<ExecutionStore>('execution store beyond starts', part);
    // Act
    const got = await store.get('t1', 'e1');
    // Assess
    expect(got).toBeUndefined();
    expect(part.calls()).toEqual(['t1/e1']);
    await expect(store.transition('t1', 'e1', ['RUNNING'], 'FAILED', {})).rejects.toThrow(
      'Invalid Meridian configuration: this function has no execution store beyond starts',
    );
  });

  it('answers data, serialization and then as the part has them', async () => {
    // Prepare
    const part = { name: 'starts', get: async () => undefined };
    const store = partOf<ExecutionStore & { name: string }>('execution store beyond starts', part);
    // Act / Assess
    expect(store.name).toBe('starts');
    expect(JSON.stringify(store)).toBe('{"name":"starts"}');
    expect(await Promise.resolve(store)).toBe(store);
  });
});
