import type { RateCounterStore } from '#core/governance/rate-limit.ts';

/** The shared rate counters in memory: an atomic conditional add per scope and slot, with an optional delay. */
export class MemoryCounters implements RateCounterStore {
  readonly counts = new Map<string, number>();
  calls = 0;
  failing = false;
  constructor(private readonly delayMs = 0) {}

  async tryAdd(
    tenantId: string,
    scope: string,
    slot: number,
    n: number,
    cap: number,
  ): Promise<number | undefined> {
    this.calls += 1;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing) throw new Error('table unreachable');
    const key = `${tenantId}/${scope}/${slot}`;
    const now = this.counts.get(key) ?? 0;
    if (now + n > cap) return undefined;
    this.counts.set(key, now + n);
    return now + n;
  }
}
