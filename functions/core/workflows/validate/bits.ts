/** A fixed-size bit set over node indexes: the availability sets of the data-flow analysis. */
export class Bits {
  private constructor(readonly words: Uint32Array) {}
  static empty(size: number): Bits {
    return new Bits(new Uint32Array(Math.ceil(size / 32) || 1));
  }
  static full(size: number): Bits {
    const bits = Bits.empty(size);
    bits.words.fill(0xffffffff);
    return bits;
  }
  clone(): Bits {
    return new Bits(this.words.slice());
  }
  has(i: number): boolean {
    return ((this.words[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  }
  add(i: number): this {
    this.words[i >>> 5] = (this.words[i >>> 5] ?? 0) | (1 << (i & 31));
    return this;
  }
  and(other: Bits): this {
    for (let w = 0; w < this.words.length; w++) this.words[w] = (this.words[w] ?? 0) & (other.words[w] ?? 0);
    return this;
  }
  or(other: Bits): this {
    for (let w = 0; w < this.words.length; w++) this.words[w] = (this.words[w] ?? 0) | (other.words[w] ?? 0);
    return this;
  }
  equals(other: Bits): boolean {
    for (let w = 0; w < this.words.length; w++) if (this.words[w] !== other.words[w]) return false;
    return true;
  }
}
