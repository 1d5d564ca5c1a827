/**
 * A small CSV reader (RFC 4180 subset): comma separated, optional double-quoted cells with ""
 * escapes (a quoted cell may span lines), LF or CRLF line ends. Blank lines are skipped. Every
 * record keeps the 1-based line number it starts on, for error messages.
 */
import { dataError } from "./errors";

export interface CsvRecord {
  readonly line: number;
  readonly cells: ReadonlyArray<string>;
}

/** Splits CSV text into records. An unterminated quote is a DataError naming its line. */
export const parseCsv = (text: string, file: string): CsvRecord[] => {
  if (!text.includes('"')) return parseUnquoted(text);
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]?.trim() === "")) records.push({ line: recordLine, cells });
    cells = [];
    cell = "";
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' && cell.trim() === "") {
      const close = readQuoted(text, i + 1);
      if (close === undefined) throw dataError(file, `line ${line}`, 'a closing quote (")', "the end of the file");
      line += countNewlines(text, i, close.end);
      cell = close.value;
      i = close.end;
    } else if (ch === ",") {
      cells.push(cell);
      cell = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      endRecord();
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      cell += ch;
      i++;
    }
  }
  if (cell !== "" || cells.length > 0) endRecord();
  return records;
};

/** Fast path for the common case of a file without any quote character. */
const parseUnquoted = (text: string): CsvRecord[] => {
  const records: CsvRecord[] = [];
  text.split(/\r\n|\n|\r/).forEach((row, k) => {
    if (row.trim() !== "") records.push({ line: k + 1, cells: row.split(",") });
  });
  return records;
};

/** Reads a quoted cell starting after its opening quote; returns its value and the index after it. */
const readQuoted = (text: string, start: number): { value: string; end: number } | undefined => {
  let value = "";
  let i = start;
  while (i < text.length) {
    const next = text.indexOf('"', i);
    if (next < 0) return undefined;
    value += text.slice(i, next);
    if (text[next + 1] === '"') {
      value += '"';
      i = next + 2;
    } else {
      return { value, end: next + 1 };
    }
  }
  return undefined;
};

const countNewlines = (text: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
};
