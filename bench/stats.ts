/** Small statistics helpers; every function refuses an empty sample rather than invent a number. */

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new Error('No samples');
  return [...values].sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0 to 100) by the nearest-rank method: the smallest sample such that at least
 * p % of the samples are less than or equal to it.
 */
export function percentile(values: readonly number[], p: number): number {
  const ordered = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * ordered.length));
  return ordered[Math.min(rank, ordered.length) - 1] as number;
}

/** The median: the middle sample, or the mean of the two middle samples of an even count. */
export function median(values: readonly number[]): number {
  const ordered = sorted(values);
  const mid = Math.floor(ordered.length / 2);
  const upper = ordered[mid] as number;
  return ordered.length % 2 === 1 ? upper : ((ordered[mid - 1] as number) + upper) / 2;
}

/** Smallest and largest sample. */
export function range(values: readonly number[]): { min: number; max: number } {
  const ordered = sorted(values);
  return { min: ordered[0] as number, max: ordered[ordered.length - 1] as number };
}
