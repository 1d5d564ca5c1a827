/**
 * The lines of a log, streamed: a file is read in chunks and split at newline bytes, so reading
 * is linear in the log's size and holds at most one line (plus one chunk) in memory. A line longer
 * than MAX_LOG_LINE_BYTES is refused as soon as the reader passes the limit (docs/event-log.md,
 * Limits), naming the line and the limit.
 */
import { createReadStream } from "node:fs";
import { LogFormatError } from "./errors";
import { DEFAULT_LOG_BUFFER_BYTES } from "./writer";

/**
 * The longest line a log may hold, in bytes (newline excluded): 32 MiB. The longest line of a log
 * is its header (the cost tables of every model on every accelerator, and every supernet variant);
 * entries are a few hundred bytes.
 */
export const MAX_LOG_LINE_BYTES = 32 * 1024 * 1024;

/** One line of a log: its 1-based number, its text, and whether a newline ended it. */
export interface LogLine {
  readonly line: number;
  readonly text: string;
  readonly terminated: boolean;
}

const NEWLINE = 0x0a;

const tooLong = (line: number, maxLineBytes: number) =>
  new LogFormatError(line, `the line is longer than the limit of ${maxLineBytes} bytes (the longest line a log may hold; docs/event-log.md, Limits)`);

const strip = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);

/** The lines of a file, read in `chunkBytes` chunks (memory stays flat; time linear in the file's size). */
export async function* fileLines(path: string, chunkBytes = DEFAULT_LOG_BUFFER_BYTES, maxLineBytes = MAX_LOG_LINE_BYTES): AsyncGenerator<LogLine> {
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  // the current line's bytes so far, as pieces of chunks (joined once, when its newline comes)
  let parts: Buffer[] = [];
  let partBytes = 0;
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
        if (partBytes + (nl - start) > maxLineBytes) throw tooLong(line + 1, maxLineBytes);
        const piece = chunk.subarray(start, nl);
        const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
        parts = [];
        partBytes = 0;
        yield { line: ++line, text: strip(bytes.toString("utf8")), terminated: true };
        start = nl + 1;
      }
      if (start < chunk.length) {
        partBytes += chunk.length - start;
        if (partBytes > maxLineBytes) throw tooLong(line + 1, maxLineBytes);
        parts.push(chunk.subarray(start));
      }
    }
  } finally {
    stream.destroy();
  }
  if (partBytes > 0) yield { line: ++line, text: Buffer.concat(parts).toString("utf8"), terminated: false };
}

/** The lines of an in-memory text (tests, small logs), under the same line limit. */
export async function* textLines(text: string, maxLineBytes = MAX_LOG_LINE_BYTES): AsyncGenerator<LogLine> {
  const parts = text.split("\n");
  const last = parts.pop()!;
  let line = 0;
  const checked = (p: string) => {
    // a UTF-16 code unit is at most 3 UTF-8 bytes: count exactly only near the limit
    if (p.length * 3 > maxLineBytes && Buffer.byteLength(p, "utf8") > maxLineBytes) throw tooLong(line + 1, maxLineBytes);
    return p;
  };
  for (const p of parts) {
    const t = checked(p);
    yield { line: ++line, text: t, terminated: true };
  }
  if (last.length > 0) {
    const t = checked(last);
    yield { line: ++line, text: t, terminated: false };
  }
}
