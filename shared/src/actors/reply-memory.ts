/**
 * The replies an actor gave to recent requests, by request key, so a repeated request (a retry
 * after a lost reply, or a resumed scheduler asking again for steps its predecessor took) gets the
 * first answer. Bounded: two generations of at most `capacity` keys each (the older one is dropped
 * when the newer fills), so at least the last `capacity` keys are remembered. A value: remembering
 * returns a new memory and shares the rest (Effect's persistent HashMap).
 */
import { HashMap, Option } from "effect";

export interface ReplyMemory<V> {
  readonly capacity: number;
  readonly young: HashMap.HashMap<string, V>;
  readonly old: HashMap.HashMap<string, V>;
}

export const replyMemory = <V>(capacity: number): ReplyMemory<V> => ({ capacity, young: HashMap.empty(), old: HashMap.empty() });

export const recall = <V>(m: ReplyMemory<V>, key: string): V | undefined =>
  Option.getOrUndefined(Option.orElse(HashMap.get(m.young, key), () => HashMap.get(m.old, key)));

export const remember = <V>(m: ReplyMemory<V>, key: string, value: V): ReplyMemory<V> =>
  HashMap.size(m.young) >= m.capacity
    ? { capacity: m.capacity, young: HashMap.set(HashMap.empty<string, V>(), key, value), old: m.young }
    : { capacity: m.capacity, young: HashMap.set(m.young, key, value), old: m.old };
