/**
 * A small streaming CSV reader (RFC 4180 subset): comma separated, optional double-quoted cells
 * with "" escapes (a quoted cell may span lines; its line breaks are read as "\n"), LF, CRLF or CR
 * line ends. Blank lines are skipped. Every record keeps the 1-based line number it starts on, for
 * error messages.
 *
 * Records are produced one at a time from lines, and a file's lines are read in 64 KiB chunks
 * (FileLines), so a reader that stops at an error (a duplicate row at line 3) has read only the
 * start of the file, and memory stays bounded by one record (MAX_CSV_RECORD_CHARS) whatever the
 * file's size.
 */
import { closeSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { checkFileSize, openForReading } from "./decode";
import { dataError } from "./errors";
import { MAX_CSV_FILE_BYTES, MAX_CSV_RECORD_CHARS } from "./limits";

export interface CsvRecord {
  readonly line: number;
  readonly cells: ReadonlyArray<string>;
}

/** Splits CSV text into records. An unterminated quote is a DataError naming its line. */
export const parseCsv = (text: string, file: string): CsvRecord[] => [...csvRecords(textLines(text), file)];

/** The lines of a text (without their line ends). */
export function* textLines(text: string): Generator<string> {
  const lineEnd = /\r\n|\n|\r/g;
  let start = 0;
  for (let match = lineEnd.exec(text); match !== null; match = lineEnd.exec(text)) {
    yield text.slice(start, match.index);
    start = match.index + match[0].length;
  }
  if (start < text.length) yield text.slice(start);
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The lines of a UTF-8 file (BOM stripped), read in chunks as they are asked for. The file is
 * refused before reading when larger than `maxBytes`, and a line longer than `maxLineChars` is
 * refused at its line. `bytesRead` says how far the file has been read.
 */
export class FileLines implements Iterable<string> {
  bytesRead = 0;

  constructor(
    private readonly path: string,
    private readonly label: string = path,
    private readonly maxBytes: number = MAX_CSV_FILE_BYTES,
    private readonly maxLineChars: number = MAX_CSV_RECORD_CHARS,
  ) {}

  *[Symbol.iterator](): Generator<string> {
    const fd = openForReading(this.path, this.label);
    try {
      checkFileSize(fd, this.label, this.maxBytes);
      const decoder = new StringDecoder("utf8");
      const buffer = Buffer.alloc(CHUNK_BYTES);
      let pending = "";
      let line = 1;
      let first = true;
      for (;;) {
        const n = readSync(fd, buffer, 0, CHUNK_BYTES, null);
        this.bytesRead += n;
        pending += n === 0 ? decoder.end() : decoder.write(buffer.subarray(0, n));
        if (first && pending.length > 0) {
          if (pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
          first = false;
        }
        let start = 0;
        for (;;) {
          const end = nextLineEnd(pending, start);
          // a CR at the end of what has been read may be the first half of a CRLF: wait for more
          if (end < 0 || (n > 0 && end === pending.length - 1 && pending[end] === "\r")) break;
          this.checkLength(end - start, line);
          yield pending.slice(start, end);
          line++;
          start = end + (pending[end] === "\r" && pending[end + 1] === "\n" ? 2 : 1);
        }
        pending = pending.slice(start);
        this.checkLength(pending.length, line);
        if (n === 0) {
          if (pending !== "") yield pending;
          return;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  private checkLength(chars: number, line: number): void {
    if (chars > this.maxLineChars) {
      throw dataError(this.label, `line ${line}`, `a line of at most ${this.maxLineChars} characters (the CSV-record limit)`, `more than ${this.maxLineChars}`);
    }
  }
}

/** Index of the next \n or \r at or after `from`, or -1. */
const nextLineEnd = (text: string, from: number): number => {
  for (let i = from; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || ch === 13) return i;
  }
  return -1;
};

/**
 * Records from lines, one at a time. A record whose quoted cell spans lines is joined with "\n";
 * one longer than MAX_CSV_RECORD_CHARS, or a quote left open at the end, is a DataError.
 */
export function* csvRecords(lines: Iterable<string>, file: string): Generator<CsvRecord> {
  let line = 0;
  let open: { line: number; cells: string[]; cell: string; chars: number; inQuote?: boolean } | undefined;
  for (const text of lines) {
    line++;
    if (open === undefined) {
      if (!text.includes('"')) {
        if (text.trim() !== "") yield { line, cells: text.split(",") };
        continue;
      }
      open = { line, cells: [], cell: "", chars: 0 };
    } else {
      open.cell += "\n";
    }
    open.chars += text.length + 1;
    if (open.chars > MAX_CSV_RECORD_CHARS) {
      throw dataError(file, `line ${open.line}`, `a record of at most ${MAX_CSV_RECORD_CHARS} characters (the CSV-record limit)`, `more than ${MAX_CSV_RECORD_CHARS}`);
    }
    if (continueRecord(open, text)) {
      const { cells } = open;
      const recordLine = open.line;
      open = undefined;
      if (!(cells.length === 1 && cells[0]?.trim() === "")) yield { line: recordLine, cells };
    }
  }
  if (open !== undefined) throw dataError(file, `line ${open.line}`, 'a closing quote (")', "the end of the file");
}

/**
 * Reads one line into an open record: `record.cell` is the cell in progress, inside a quote when
 * `inQuote`. True when the record ended at the end of the line.
 */
const continueRecord = (record: { cells: string[]; cell: string; inQuote?: boolean }, text: string): boolean => {
  let i = 0;
  while (i < text.length) {
    if (record.inQuote === true) {
      const next = text.indexOf('"', i);
      if (next < 0) {
        record.cell += text.slice(i);
        return false;
      }
      record.cell += text.slice(i, next);
      if (text[next + 1] === '"') {
        record.cell += '"';
        i = next + 2;
      } else {
        record.inQuote = false;
        i = next + 1;
      }
      continue;
    }
    const ch = text[i];
    if (ch === '"' && record.cell.trim() === "") {
      record.cell = "";
      record.inQuote = true;
      i++;
    } else if (ch === ",") {
      record.cells.push(record.cell);
      record.cell = "";
      i++;
    } else {
      record.cell += ch;
      i++;
    }
  }
  if (record.inQuote === true) return false;
  record.cells.push(record.cell);
  record.cell = "";
  return true;
};
