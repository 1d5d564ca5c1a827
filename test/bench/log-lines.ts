/**
 * Reading speed of a log with one long line, this reader against the one before it (docs/event-log.md,
 * Limits): `node --import tsx test/bench/log-lines.ts new|old <log>`. Not part of `npm run bench`.
 */
import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { fileLines } from "../../shared/src/runtime/event-log/lines.ts";
// the reader before this change (HEAD~: shared/src/runtime/event-log.ts fileLines), verbatim
async function* oldFileLines(path: string, chunkBytes = 64 * 1024) {
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  const strip = (s: string) => (s.endsWith("\r") ? s.slice(0, -1) : s);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl >= 0; nl = text.indexOf("\n", start)) {
      yield { line: ++line, text: strip(text.slice(start, nl)), terminated: true };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield { line: ++line, text: rest, terminated: false };
}
const [which, path] = process.argv.slice(2) as [string, string];
const t0 = performance.now();
let n = 0;
try {
  for await (const _ of which === "old" ? oldFileLines(path) : fileLines(path)) n++;
  console.log(`${which} ${path}: ${n} lines in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
} catch (e) {
  console.log(`${which} ${path}: ${String(e)} after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}
