/** A binary min-heap keyed by (time, insertion order): ties keep FIFO order, so runs are deterministic. */
export class EventHeap<T> {
  private readonly items: Array<{ t: number; n: number; v: T }> = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  push(t: number, v: T): void {
    const it = { t, n: this.counter++, v };
    const a = this.items;
    a.push(it);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(it, a[parent] as typeof it)) break;
      a[i] = a[parent] as typeof it;
      i = parent;
    }
    a[i] = it;
  }

  peekTime(): number | undefined {
    return this.items[0]?.t;
  }

  pop(): { t: number; v: T } | undefined {
    const a = this.items;
    const top = a[0];
    if (!top) return undefined;
    const last = a.pop() as (typeof a)[number];
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mv = last;
        if (l < a.length && this.less(a[l] as typeof last, mv)) {
          m = l;
          mv = a[l] as typeof last;
        }
        if (r < a.length && this.less(a[r] as typeof last, mv)) {
          m = r;
          mv = a[r] as typeof last;
        }
        if (m === i) break;
        a[i] = mv;
        i = m;
      }
      a[i] = last;
    }
    return { t: top.t, v: top.v };
  }

  private less(x: { t: number; n: number }, y: { t: number; n: number }): boolean {
    return x.t < y.t || (x.t === y.t && x.n < y.n);
  }
}
