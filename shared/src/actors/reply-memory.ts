/**
 * The replies an actor gave to recent requests, by request key, so a repeated request (a retry
 * after a lost reply, or a resumed scheduler asking again for steps its predecessor took) gets the
 * first answer. Bounded: at least the last `capacity` keys are remembered, and about 1.25 ×
 * `capacity` are kept (fewer than `capacity` + 2 generations).
 *
 * A key is a string or a number. A number may stand for a request's identity without being all
 * of it (a hash of its fields: no string to build and hash per request); the caller then passes
 * `same`, which tells whether a remembered value answers this very request, and entries with one
 * key are told apart by it (newest first). Without `same` a key is the whole identity. A request
 * may also carry an `order`, a number that is part of its identity and that new requests do not
 * lower (an accelerator's dispatch time): a request ordered after every remembered one is new,
 * known without a lookup (a memory's requests carry an order all or none). The tables that find a
 * key are built only when a lookup needs them (with orders: a repeated request), so remembering is
 * an append.
 *
 * A value: remembering returns a new memory and never changes the one it was given. Cheap in the
 * common case where each memory is remembered into once (an actor's lineage of snapshots): the
 * entries live in generations of `capacity / 4`, each an append-only table shared by the memories
 * that see it. The newest generation is open; a memory sees its first `upTo` entries. When it is
 * full it is sealed and a new one opens; the oldest sealed generation beyond the last `capacity`
 * entries is dropped. Nothing is copied on this path, and no object is made per entry (entries
 * live long enough to reach V8's old space, where every extra object raises the heap's peak).
 * Remembering into a memory that is not the newest of its open generation (a second step from one
 * snapshot, as XState's `transition` allows) copies the entries it sees of that generation (at most
 * `capacity / 4`). Remembering a request the memory already holds (the actors never do: they recall
 * first) rebuilds its entries without the old one.
 */

export type MemoryKey = string | number;

/** Whether a remembered value is the answer to the request being looked up (for keys that are hashes). */
export type Same<V> = (remembered: V) => boolean;

/** A generation: entry i is `values[i]` under `keys[i]`. Append-only while open. */
interface Gen<V> {
  readonly keys: MemoryKey[];
  readonly values: V[];
}

/**
 * A generation's lookup tables, for entries [0, indexed): `index` gives the newest entry of a key
 * and `prev[i]` the entry before i with the same key (-1: none). Made and extended when a lookup
 * needs them (entries never change, so one generation's tables serve every memory that shares
 * it); kept beside the generation, not in it, so a snapshot that holds the memory is not changed
 * by a lookup (XState's `transition` contract).
 */
interface Tables {
  readonly index: Map<MemoryKey, number>;
  readonly prev: number[];
  indexed: number;
}
const tables = new WeakMap<Gen<unknown>, Tables>();

/** `gen`'s lookup tables, covering all its entries. */
const tablesOf = <V>(gen: Gen<V>): Tables => {
  let t = tables.get(gen);
  if (t === undefined) tables.set(gen, (t = { index: new Map(), prev: [], indexed: 0 }));
  for (let i = t.indexed; i < gen.values.length; i++) {
    const k = gen.keys[i]!;
    t.prev.push(t.index.get(k) ?? -1);
    t.index.set(k, i);
  }
  t.indexed = gen.values.length;
  return t;
};

export interface ReplyMemory<V> {
  readonly capacity: number;
  /** Entries per generation. */
  readonly genSize: number;
  /** Sealed generations, oldest first (all their entries are seen). */
  readonly sealed: ReadonlyArray<Gen<V>>;
  readonly open: Gen<V>;
  /** This memory sees the open generation's entries [0, upTo). */
  readonly upTo: number;
  /** Not below the order of any request remembered with one (-Infinity: none). */
  readonly maxOrder: number;
}

const newGen = <V>(): Gen<V> => ({ keys: [], values: [] });

/** A memory object, always built here (one shape: `{ ...m, upTo }` per entry was a slow copy). */
const memory = <V>(capacity: number, genSize: number, sealed: ReadonlyArray<Gen<V>>, open: Gen<V>, upTo: number, maxOrder: number): ReplyMemory<V> => ({
  capacity,
  genSize,
  sealed,
  open,
  upTo,
  maxOrder,
});

export const replyMemory = <V>(capacity: number): ReplyMemory<V> => memory(capacity, Math.max(1, Math.ceil(capacity / 4)), [], newGen(), 0, -Infinity);

/** The newest entry of `gen` below `upTo` under `key` that `same` accepts, or -1. */
const find = <V>(gen: Gen<V>, upTo: number, key: MemoryKey, same: Same<V> | undefined): number => {
  if (upTo === 0) return -1;
  const t = tablesOf(gen);
  for (let i = t.index.get(key) ?? -1; i >= 0; i = t.prev[i]!) {
    if (i < upTo && (same === undefined || same(gen.values[i]!))) return i;
  }
  return -1;
};

/** The answer remembered for the request `key` (`same`, `order`: see the top of this file), if any. */
export const recall = <V>(m: ReplyMemory<V>, key: MemoryKey, same?: Same<V>, order?: number): V | undefined => {
  if (order !== undefined && order > m.maxOrder) return undefined; // after every remembered request: new
  const i = find(m.open, m.upTo, key, same);
  if (i >= 0) return m.open.values[i];
  for (let g = m.sealed.length - 1; g >= 0; g--) {
    const gen = m.sealed[g]!;
    const j = find(gen, gen.values.length, key, same);
    if (j >= 0) return gen.values[j];
  }
  return undefined;
};

/** `m`'s open generation as it sees it, in a table of its own. */
const ownOpen = <V>(m: ReplyMemory<V>): Gen<V> => {
  const gen = newGen<V>();
  for (let i = 0; i < m.upTo; i++) {
    gen.keys.push(m.open.keys[i]!);
    gen.values.push(m.open.values[i]!);
  }
  return gen;
};

/** Appends to `open`, which the caller owns at its tip; seals it when full. */
const append = <V>(m: ReplyMemory<V>, open: Gen<V>, key: MemoryKey, value: V, order: number | undefined): ReplyMemory<V> => {
  open.keys.push(key);
  open.values.push(value);
  const maxOrder = order !== undefined && order > m.maxOrder ? order : m.maxOrder;
  if (open.values.length < m.genSize) return memory(m.capacity, m.genSize, m.sealed, open, open.values.length, maxOrder);
  const keep = Math.ceil(m.capacity / m.genSize);
  return memory(m.capacity, m.genSize, [...m.sealed, open].slice(-keep), newGen(), 0, maxOrder);
};

/** Remembers `value` as the answer to the request `key` (`same`, `order`: as for `recall`). */
export const remember = <V>(m: ReplyMemory<V>, key: MemoryKey, value: V, same?: Same<V>, order?: number): ReplyMemory<V> => {
  if (recall(m, key, same, order) !== undefined) {
    // a request it holds: the same entries without it, then the new answer (the newest wins)
    let fresh = memory<V>(m.capacity, m.genSize, [], newGen(), 0, m.maxOrder);
    for (const gen of [...m.sealed, m.open]) {
      const upTo = gen === m.open ? m.upTo : gen.values.length;
      for (let i = 0; i < upTo; i++) {
        const v = gen.values[i]!;
        if (gen.keys[i] === key && (same === undefined || same(v))) continue;
        fresh = append(fresh, fresh.open, gen.keys[i]!, v, undefined);
      }
    }
    return append(fresh, fresh.open, key, value, order);
  }
  const atTip = m.upTo === m.open.values.length;
  return append(m, atTip ? m.open : ownOpen(m), key, value, order);
};
