import { describe, expect, it, vi } from 'vitest';
import { readiness } from '#core/platform/readiness.ts';

describe('readiness', () => {
  it('is ready when every probe answers', async () => {
    // Prepare
    const probes = [
      { name: 'table', check: async () => ({}) },
      { name: 'bucket', check: async () => ({}) },
    ];
    // Act
    const result = await readiness({ probes, timeoutMs: 1_000 });
    // Assess
    expect(result.status).toBe('ready');
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['table', true],
      ['bucket', true],
    ]);
  });

  it('is degraded when a probe fails or hangs, and says which (with why, to the log only)', async () => {
    // Prepare
    const onFailure = vi.fn();
    const probes = [
      { name: 'table', check: async () => ({}) },
      { name: 'bucket', check: () => Promise.reject(new Error('AccessDenied')) },
      { name: 'identity', check: () => new Promise(() => undefined) },
    ];
    // Act
    const result = await readiness({ probes, timeoutMs: 20, onFailure });
    // Assess
    expect(result.status).toBe('degraded');
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['table', true],
      ['bucket', false],
      ['identity', false],
    ]);
    expect(onFailure.mock.calls).toEqual([
      ['bucket', 'AccessDenied'],
      ['identity', 'timed out'],
    ]);
  });
});
