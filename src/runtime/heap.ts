/**
 * The simulator's event queue: a binary min-heap keyed by (time, insertion order), so ties
 * keep FIFO order and runs are deterministic.
 *
 * Nothing is allocated per event: an event is a slot in parallel arrays (time, insertion
 * number, kind, two integers and one reference), the heap orders slot numbers, and freed
 * slots are reused. `pop` copies the earliest event into the public cursor fields
 * (`t`, `kind`, `a`, `b`, `ref`) and frees its slot.
 */
export class EventQueue<R> {
  /** The event last popped. */
  t = 0;
  kind = 0;
  a = 0;
  b = 0;
  ref: R | undefined;

  private heap = new Int32Array(64);
  private count = 0;
  private times = new Float64Array(64);
  private order = new Float64Array(64);
  private kinds = new Int32Array(64);
  private as = new Int32Array(64);
  private bs = new Int32Array(64);
  private refs: Array<R | undefined> = new Array<R | undefined>(64).fill(undefined);
  private free = new Int32Array(64);
  private freeCount = 0;
  private slots = 0;
  private counter = 0;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event, or +Infinity when the queue is empty. */
  peekTime(): number {
    return this.count > 0 ? (this.times[this.heap[0] as number] as number) : Infinity;
  }

  /** Insertion number of the earliest event (+Infinity when the queue is empty). */
  peekOrder(): number {
    return this.count > 0 ? (this.order[this.heap[0] as number] as number) : Infinity;
  }

  /** The insertion number the next push gets: every event pushed so far has a smaller one. */
  get nextOrder(): number {
    return this.counter;
  }

  push(t: number, kind: number, a: number, b: number, ref: R | undefined): void {
    let s: number;
    if (this.freeCount > 0) s = this.free[--this.freeCount] as number;
    else {
      if (this.slots === this.times.length) this.grow();
      s = this.slots++;
    }
    const times = this.times;
    const order = this.order;
    const n = this.counter++;
    times[s] = t;
    order[s] = n;
    this.kinds[s] = kind;
    this.as[s] = a;
    this.bs[s] = b;
    this.refs[s] = ref;
    const h = this.heap;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as number;
      const pt = times[p] as number;
      if (pt < t || (pt === t && (order[p] as number) < n)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = s;
  }

  /** Remove the earliest event into the cursor fields; false when the queue is empty. */
  pop(): boolean {
    if (this.count === 0) return false;
    const h = this.heap;
    const times = this.times;
    const order = this.order;
    const top = h[0] as number;
    this.t = times[top] as number;
    this.kind = this.kinds[top] as number;
    this.a = this.as[top] as number;
    this.b = this.bs[top] as number;
    this.ref = this.refs[top];
    this.refs[top] = undefined;
    this.free[this.freeCount++] = top;
    const len = --this.count;
    if (len > 0) {
      const last = h[len] as number;
      const lt = times[last] as number;
      const ln = order[last] as number;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        let m = l;
        let ms = h[l] as number;
        let mt = times[ms] as number;
        const r = l + 1;
        if (r < len) {
          const rs = h[r] as number;
          const rt = times[rs] as number;
          if (rt < mt || (rt === mt && (order[rs] as number) < (order[ms] as number))) {
            m = r;
            ms = rs;
            mt = rt;
          }
        }
        if (lt < mt || (lt === mt && ln < (order[ms] as number))) break;
        h[i] = ms;
        i = m;
      }
      h[i] = last;
    }
    return true;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const widen = <A extends Float64Array | Int32Array>(old: A, make: (k: number) => A): A => {
      const x = make(n);
      x.set(old);
      return x;
    };
    this.times = widen(this.times, (k) => new Float64Array(k));
    this.order = widen(this.order, (k) => new Float64Array(k));
    this.kinds = widen(this.kinds, (k) => new Int32Array(k));
    this.as = widen(this.as, (k) => new Int32Array(k));
    this.bs = widen(this.bs, (k) => new Int32Array(k));
    this.heap = widen(this.heap, (k) => new Int32Array(k));
    this.free = widen(this.free, (k) => new Int32Array(k));
    for (let i = this.refs.length; i < n; i++) this.refs.push(undefined);
  }
}
