/**
 * The bytes of a log: the header's line and each entry's line, the same for every sink (a JSONL
 * file here, a JetStream subject in nats/event-stream). JSON has no Infinity/NaN: a non-finite
 * decision score is written as the string "Infinity", "-Infinity" or "NaN".
 */
import type { KernelInput } from "../../actors/scheduler-kernel";
import type { LogHeader } from "../../contracts/log";
import type { RunEvent } from "../../contracts/messages";
import { BufferedFileWriter, DEFAULT_LOG_BUFFER_BYTES } from "./writer";

/** Where recorded entries go: a JSONL file, or a JetStream stream. */
export interface EventLogSink {
  header(header: LogHeader): void;
  entry(entry: OutEntry): void;
  close(): void;
}

/** An entry as written (payloads are the kernel's own values). */
export type OutEntry =
  | { readonly seq: number; readonly at: number; readonly source: string; readonly type: "input"; readonly payload: KernelInput }
  | { readonly seq: number; readonly at: number; readonly source: "sched"; readonly type: RunEvent["_tag"]; readonly payload: RunEvent };

const NON_FINITE = (n: number) => (Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity");

/** The JSON form of an event: non-finite decision scores become "Infinity" / "-Infinity" / "NaN". */
export const encodeEvent = (e: RunEvent): RunEvent | Record<string, unknown> => {
  if (e._tag !== "decision" || e.scores === undefined) return e;
  let clean = true;
  for (const k in e.scores) if (!Number.isFinite(e.scores[k])) clean = false;
  if (clean) return e;
  const scores: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(e.scores)) scores[k] = Number.isFinite(v) ? v : NON_FINITE(v);
  return { ...e, scores };
};

/** The header's line of a log (without the newline): what every sink writes first. */
export const headerLine = (header: LogHeader): string => JSON.stringify(header);

/** An entry's line of a log (without the newline): the same bytes for every sink (file, JetStream). */
export const entryLine = (e: OutEntry): string => {
  const payload = e.type === "input" ? e.payload : encodeEvent(e.payload);
  return `{"seq":${e.seq},"at":${JSON.stringify(e.at)},"source":${JSON.stringify(e.source)},"type":"${e.type}","payload":${JSON.stringify(payload)}}`;
};

/** One JSON line per entry, header first, into a BufferedFileWriter. */
export class JsonlLogSink implements EventLogSink {
  readonly writer: BufferedFileWriter;
  lines = 0;

  constructor(path: string, capBytes = DEFAULT_LOG_BUFFER_BYTES) {
    this.writer = new BufferedFileWriter(path, capBytes);
  }

  header(header: LogHeader): void {
    this.writeLine(headerLine(header));
  }

  entry(e: OutEntry): void {
    this.writeLine(entryLine(e));
  }

  close(): void {
    this.writer.close();
  }

  private writeLine(text: string) {
    this.writer.write(`${text}\n`);
    this.lines++;
  }
}
