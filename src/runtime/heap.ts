/**
 * The simulator's event queue: a binary min-heap keyed by (time, insertion order), so ties
 * keep FIFO order and runs are deterministic.
 *
 * Nothing is allocated per event: an event is a slot in parallel arrays (time, insertion
 * number, kind, two integers and one reference), the heap orders slot numbers, and freed
 * slots are reused. `pop` copies the earliest event into the public cursor fields
 * (`t`, `kind`, `a`, `b`, `ref`) and frees its slot.
 *
 * An event still in the queue can be moved (`reschedule`: as if removed and pushed again,
 * with a new insertion number) or removed (`remove`) through the slot `push` returned, so a
 * timer that is re-armed again and again keeps one entry instead of leaving stale ones.
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
  /** Heap index of each slot's event (-1: the slot is free). */
  private pos = new Int32Array(64).fill(-1);
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

  /** Add an event; returns its slot (valid until the event is popped or removed). */
  push(t: number, kind: number, a: number, b: number, ref: R | undefined): number {
    let s: number;
    if (this.freeCount > 0) s = this.free[--this.freeCount] as number;
    else {
      if (this.slots === this.times.length) this.grow();
      s = this.slots++;
    }
    this.times[s] = t;
    this.order[s] = this.counter++;
    this.kinds[s] = kind;
    this.as[s] = a;
    this.bs[s] = b;
    this.refs[s] = ref;
    this.siftUp(this.count++, s);
    return s;
  }

  /**
   * Move the event in `slot` to time `t` (its `b` becomes `b`): exactly as if it were removed
   * and pushed again now, a new insertion number included.
   */
  reschedule(slot: number, t: number, b: number): void {
    const i = this.pos[slot] as number;
    if (i < 0) throw new Error(`EventQueue.reschedule: slot ${slot} is not queued`);
    const wasT = this.times[slot] as number;
    this.times[slot] = t;
    this.order[slot] = this.counter++;
    this.bs[slot] = b;
    // Later (or as late, now last among equals): down; earlier: up.
    if (t >= wasT) this.siftDown(i, slot);
    else this.siftUp(i, slot);
  }

  /** Remove the event in `slot` without handling it. */
  remove(slot: number): void {
    const i = this.pos[slot] as number;
    if (i < 0) throw new Error(`EventQueue.remove: slot ${slot} is not queued`);
    this.release(slot);
    const len = --this.count;
    if (i === len) return;
    const last = this.heap[len] as number;
    // The last event takes the hole: it may belong above it or below it.
    if (i > 0 && this.before(last, this.heap[(i - 1) >> 1] as number)) this.siftUp(i, last);
    else this.siftDown(i, last);
  }

  /** Whether the event in slot x comes before the one in slot y. */
  private before(x: number, y: number): boolean {
    const tx = this.times[x] as number;
    const ty = this.times[y] as number;
    return tx < ty || (tx === ty && (this.order[x] as number) < (this.order[y] as number));
  }

  private release(s: number): void {
    this.refs[s] = undefined;
    this.pos[s] = -1;
    this.free[this.freeCount++] = s;
  }

  /** Put slot s at heap index i or above (the hole at i is free). */
  private siftUp(i: number, s: number): void {
    const h = this.heap;
    const pos = this.pos;
    const times = this.times;
    const order = this.order;
    const t = times[s] as number;
    const n = order[s] as number;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as number;
      const pt = times[p] as number;
      if (pt < t || (pt === t && (order[p] as number) < n)) break;
      h[i] = p;
      pos[p] = i;
      i = parent;
    }
    h[i] = s;
    pos[s] = i;
  }

  /** Put slot s at heap index i or below (the hole at i is free; `count` is the heap's size). */
  private siftDown(i: number, s: number): void {
    const h = this.heap;
    const pos = this.pos;
    const times = this.times;
    const order = this.order;
    const len = this.count;
    const lt = times[s] as number;
    const ln = order[s] as number;
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
      pos[ms] = i;
      i = m;
    }
    h[i] = s;
    pos[s] = i;
  }

  /** Remove the earliest event into the cursor fields; false when the queue is empty. */
  pop(): boolean {
    if (this.count === 0) return false;
    const h = this.heap;
    const top = h[0] as number;
    this.t = this.times[top] as number;
    this.kind = this.kinds[top] as number;
    this.a = this.as[top] as number;
    this.b = this.bs[top] as number;
    this.ref = this.refs[top];
    this.release(top);
    const len = --this.count;
    if (len > 0) this.siftDown(0, h[len] as number);
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
    const pos = new Int32Array(n).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
    for (let i = this.refs.length; i < n; i++) this.refs.push(undefined);
  }
}
