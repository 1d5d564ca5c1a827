/**
 * The replies an actor gave to recent requests, by request key, so a repeated request (a retry
 * after a lost reply, or a resumed scheduler asking again for steps its predecessor took) gets the
 * first answer. Bounded: at least the last `capacity` keys are remembered.
 *
 * A value: remembering returns a new memory and never changes the one it was given. Cheap in the
 * common case where each memory is remembered into once (an actor's lineage of snapshots): the
 * memories share one append-only store, and each sees the entries made before it (`seq` below).
 * Remembering into a memory that is not the store's newest (a second step from one snapshot, as
 * XState's `transition` allows) copies what that memory sees into a store of its own. Entries are
 * never removed from a store; when one holds twice the capacity, the newest `capacity` move into a
 * fresh store.
 */

interface Store<V> {
  readonly entries: Map<string, { readonly value: V; readonly seq: number }>;
  /** Entries appended so far (the `seq` the next one gets). */
  next: number;
}

export interface ReplyMemory<V> {
  readonly capacity: number;
  readonly store: Store<V>;
  /** This memory sees the store's entries with seq in [from, upTo). */
  readonly from: number;
  readonly upTo: number;
}

export const replyMemory = <V>(capacity: number): ReplyMemory<V> => ({ capacity, store: { entries: new Map(), next: 0 }, from: 0, upTo: 0 });

export const recall = <V>(m: ReplyMemory<V>, key: string): V | undefined => {
  const e = m.store.entries.get(key);
  return e !== undefined && e.seq < m.upTo && e.seq >= m.from ? e.value : undefined;
};

/** A store with the entries `m` sees, newest `keep` only. */
const copyOf = <V>(m: ReplyMemory<V>, keep: number): Store<V> => {
  const from = Math.max(m.from, m.upTo - keep);
  const entries = new Map<string, { readonly value: V; readonly seq: number }>();
  let next = 0;
  for (const [k, e] of m.store.entries) if (e.seq >= from && e.seq < m.upTo) entries.set(k, { value: e.value, seq: next++ });
  return { entries, next };
};

export const remember = <V>(m: ReplyMemory<V>, key: string, value: V): ReplyMemory<V> => {
  let store = m.store;
  let from = m.from;
  const atTip = m.upTo === store.next && !store.entries.has(key);
  if (!atTip || store.entries.size >= 2 * m.capacity) {
    store = copyOf(m, atTip ? m.capacity : 2 * m.capacity);
    from = 0;
    if (store.entries.has(key)) store.entries.delete(key); // a repeated key: the newest answer wins
  }
  store.entries.set(key, { value, seq: store.next });
  store.next++;
  return { capacity: m.capacity, store, from, upTo: store.next };
};
