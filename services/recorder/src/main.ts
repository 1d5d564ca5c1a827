/**
 * The recorder service (`sdrm3 serve recorder`): follows a run's event log in JetStream as the
 * scheduler writes it (`--record-stream`; stream SDRM3_LOG, subject `sdrm3.<run>.log`), checks
 * every line with the reader every log command uses (`openLog`: header, schemas, consecutive
 * sequence numbers, run.finished last) and writes the JSONL file — byte for byte the file
 * `sdrm3 log export` writes for the same run, which `sdrm3 replay` replays. It ends at the run's
 * run.finished entry.
 *
 * The file is written as `<out>.partial` and renamed to `<out>` once run.finished has been read
 * and checked, so `<out>` only ever holds a whole log; when following fails (the log does not
 * appear within the wait timeout, no new line within the idle timeout, a damaged line) the
 * `.partial` file stays for `sdrm3 replay --allow-truncated` and the error names it.
 *
 * It needs only JetStream's consumer API on the run's subject (deploy/nats.conf, user recorder):
 * it never creates the stream, it waits for it.
 */
import { renameSync } from "node:fs";
import { type FollowLogOptions, LOG_STREAM, type NatsBus, followLogLines, logSubject } from "@sdrm3/shared/nats";
import { BufferedFileWriter, type LogLine, openLog } from "@sdrm3/shared/runtime";

export interface RecorderServiceOptions extends FollowLogOptions {
  readonly bus: NatsBus;
  readonly run: string;
  /** The JSONL file to write. */
  readonly out: string;
  readonly log?: (line: string) => void;
}

export interface RecorderResult {
  readonly out: string;
  /** Lines written (header + entries). */
  readonly lines: number;
  readonly entries: number;
  /** Bytes written (lines with their newlines). */
  readonly bytes: number;
}

export const serveRecorder = async (opts: RecorderServiceOptions): Promise<RecorderResult> => {
  const partial = `${opts.out}.partial`;
  const file = new BufferedFileWriter(partial);
  let bytes = 0;
  let announced = false;
  const source = followLogLines(opts.bus.nc, opts.run, opts);
  async function* tap(): AsyncGenerator<LogLine> {
    for await (const l of source) {
      if (!announced) {
        announced = true;
        opts.log?.(`following run ${opts.run}: ${logSubject(opts.run)} in stream ${LOG_STREAM}`);
      }
      yield l;
      // written once the reader asks for the next line, i.e. after it checked this one
      const text = `${l.text}\n`;
      bytes += Buffer.byteLength(text, "utf8");
      file.write(text);
      // a follower writes as the run goes: each batch of lines reaches the file
      if (file.bufferedBytes > 0 && l.line % 256 === 0) file.flush();
    }
  }
  opts.log?.(`recorder for run ${opts.run}: waiting for its log (${logSubject(opts.run)} in stream ${LOG_STREAM})`);
  try {
    const log = await openLog(tap(), { name: `JetStream ${LOG_STREAM} run ${opts.run}` });
    for await (const _ of log.entries) {
      // the reader checks every entry (and that run.finished ends the log); the tap writes it
    }
    file.close();
    renameSync(partial, opts.out);
    return { out: opts.out, lines: log.status.linesUsed, entries: log.status.entries, bytes };
  } catch (e) {
    file.close();
    opts.log?.(`the ${bytes} bytes read and checked so far are in ${partial}`);
    throw e;
  }
};
