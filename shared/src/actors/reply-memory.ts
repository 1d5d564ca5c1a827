/**
 * The replies an actor gave to recent requests, by request key, so a repeated request (a retry
 * after a lost reply, or a resumed scheduler asking again for steps its predecessor took) gets the
 * first answer. Bounded: at least the last `capacity` keys are remembered, and about 1.25 ×
 * `capacity` are kept (fewer than `capacity` + 2 generations).
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
 * `capacity / 4`). Remembering a key the memory already holds (the actors never do: they recall
 * first) rebuilds its entries without the old one.
 */

/** A generation: entry i is keys' value values[i]; append-only while open. */
interface Gen<V> {
  readonly index: Map<string, number>;
  readonly values: V[];
}

export interface ReplyMemory<V> {
  readonly capacity: number;
  /** Entries per generation. */
  readonly genSize: number;
  /** Sealed generations, oldest first (all their entries are seen). */
  readonly sealed: ReadonlyArray<Gen<V>>;
  readonly open: Gen<V>;
  /** This memory sees the open generation's entries [0, upTo). */
  readonly upTo: number;
}

const newGen = <V>(): Gen<V> => ({ index: new Map(), values: [] });

export const replyMemory = <V>(capacity: number): ReplyMemory<V> => {
  const genSize = Math.max(1, Math.ceil(capacity / 4));
  return { capacity, genSize, sealed: [], open: newGen(), upTo: 0 };
};

export const recall = <V>(m: ReplyMemory<V>, key: string): V | undefined => {
  const i = m.open.index.get(key);
  if (i !== undefined && i < m.upTo) return m.open.values[i];
  for (let g = m.sealed.length - 1; g >= 0; g--) {
    const gen = m.sealed[g]!;
    const j = gen.index.get(key);
    if (j !== undefined) return gen.values[j];
  }
  return undefined;
};

/** `m`'s open generation as it sees it, in a table of its own. */
const ownOpen = <V>(m: ReplyMemory<V>): Gen<V> => {
  const gen = newGen<V>();
  for (let i = 0; i < m.upTo; i++) gen.values.push(m.open.values[i]!);
  for (const [k, i] of m.open.index) if (i < m.upTo) gen.index.set(k, i);
  return gen;
};

/** Appends to `open`, which the caller owns at its tip; seals it when full. */
const append = <V>(m: ReplyMemory<V>, open: Gen<V>, key: string, value: V): ReplyMemory<V> => {
  open.index.set(key, open.values.length);
  open.values.push(value);
  if (open.values.length < m.genSize) return { ...m, open, upTo: open.values.length };
  const keep = Math.ceil(m.capacity / m.genSize);
  return { ...m, sealed: [...m.sealed, open].slice(-keep), open: newGen(), upTo: 0 };
};

export const remember = <V>(m: ReplyMemory<V>, key: string, value: V): ReplyMemory<V> => {
  if (recall(m, key) !== undefined) {
    // a key it holds: the same entries without it, then the new answer (the newest wins)
    let fresh = replyMemory<V>(m.capacity);
    const entries = (gen: Gen<V>, upTo: number) => [...gen.index].filter(([k, i]) => i < upTo && k !== key).sort((a, b) => a[1] - b[1]);
    for (const gen of [...m.sealed, m.open]) {
      for (const [k, i] of entries(gen, gen === m.open ? m.upTo : gen.values.length)) fresh = append(fresh, fresh.open, k, gen.values[i]!);
    }
    return append(fresh, fresh.open, key, value);
  }
  const atTip = m.upTo === m.open.values.length;
  return append(m, atTip ? m.open : ownOpen(m), key, value);
};
