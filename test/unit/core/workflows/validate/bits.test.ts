/**
 * The bit sets of the validator's data-flow analysis (functions/core/workflows/validate/bits.ts):
 * one bit per step index, 32 to a word, so sets over more than 32 steps span several words.
 */
import { describe, expect, it } from 'vitest';
import { Bits } from '#core/workflows/validate/bits.ts';

/** The indexes below `size` that `bits` holds. */
function members(bits: Bits, size: number): number[] {
  return Array.from({ length: size }, (_, i) => i).filter((i) => bits.has(i));
}

describe('Bits', () => {
  it('keeps the indexes already in a set when another is added, in the same word or another', () => {
    // Prepare
    const bits = Bits.empty(70);

    // Act
    bits.add(1).add(2).add(31).add(33).add(69);

    // Assess
    expect(members(bits, 70)).toEqual([1, 2, 31, 33, 69]);
  });

  it('starts empty or full', () => {
    // Act
    const empty = Bits.empty(40);
    const full = Bits.full(40);

    // Assess
    expect(members(empty, 40)).toEqual([]);
    expect(members(full, 40)).toHaveLength(40);
  });

  it.each([
    // size, words: one 32-bit word per 32 indexes, and one at least
    [0, 1],
    [1, 1],
    [32, 1],
    [33, 2],
    [64, 2],
    [500, 16],
  ])('holds a set over %i indexes in %i words', (size, words) => {
    // Act
    const empty = Bits.empty(size);
    const full = Bits.full(size);

    // Assess: the analysis keeps several sets per step, each this size.
    expect(empty.words).toHaveLength(words);
    expect(full.words).toHaveLength(words);
  });

  it('intersects and unites across words, in place', () => {
    // Prepare
    const a = Bits.empty(64).add(0).add(5).add(40);
    const b = Bits.empty(64).add(5).add(40).add(63);

    // Act
    const both = a.clone().and(b);
    const either = a.clone().or(b);

    // Assess
    expect(members(both, 64)).toEqual([5, 40]);
    expect(members(either, 64)).toEqual([0, 5, 40, 63]);
    expect(members(a, 64)).toEqual([0, 5, 40]);
  });

  it('equals a set with the same indexes only, in any word', () => {
    // Prepare
    const a = Bits.empty(64).add(3).add(35);

    // Act
    const same = a.equals(Bits.empty(64).add(35).add(3));
    const otherLow = a.equals(Bits.empty(64).add(35));
    const otherHigh = a.equals(Bits.empty(64).add(3).add(36));

    // Assess
    expect([same, otherLow, otherHigh]).toEqual([true, false, false]);
  });
});
