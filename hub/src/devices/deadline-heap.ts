/** A binary min-heap of (due time, key): what is due next is at the top, O(log n) in and out. */
export class DeadlineHeap<K> {
  private readonly at: number[] = [];
  private readonly keys: K[] = [];

  get size(): number { return this.at.length; }

  /** Due time of the earliest entry; Infinity when empty. */
  peek(): number { return this.at.length ? this.at[0]! : Infinity; }

  push(due: number, key: K): void {
    const { at, keys } = this;
    let i = at.length;
    at.push(due);
    keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! <= due) break;
      at[i] = at[p]!;
      keys[i] = keys[p]!;
      i = p;
    }
    at[i] = due;
    keys[i] = key;
  }

  /** Removes and returns the earliest entry's key (undefined when empty). */
  pop(): K | undefined {
    const { at, keys } = this;
    if (at.length === 0) return undefined;
    const top = keys[0];
    const lastAt = at.pop()!;
    const lastKey = keys.pop()!;
    const n = at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && at[l + 1]! < at[l]! ? l + 1 : l;
        if (at[c]! >= lastAt) break;
        at[i] = at[c]!;
        keys[i] = keys[c]!;
        i = c;
      }
      at[i] = lastAt;
      keys[i] = lastKey;
    }
    return top;
  }
}
