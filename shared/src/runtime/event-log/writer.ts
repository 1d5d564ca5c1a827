/**
 * Appending a log to a file through one fixed buffer (memory stays flat however long the run: no
 * stream with an unbounded queue).
 */
import { closeSync, openSync, writeSync } from "node:fs";

export const DEFAULT_LOG_BUFFER_BYTES = 64 * 1024;

/**
 * Appends text to a file through one fixed buffer: `write` copies into the buffer and flushes it
 * with fs.writeSync when the next piece would not fit; a piece larger than the buffer (a big
 * header) is written directly. `maxBufferedBytes` is the high-water mark of the buffer (≤ cap).
 */
export class BufferedFileWriter {
  private readonly buf: Buffer;
  private used = 0;
  private fd: number | undefined;
  /** Bytes currently buffered, not yet written. */
  get bufferedBytes(): number {
    return this.used;
  }
  /** Most bytes ever held in the buffer. */
  maxBufferedBytes = 0;
  /** Bytes handed to the file so far. */
  bytesWritten = 0;
  flushes = 0;

  constructor(
    readonly path: string,
    readonly capBytes = DEFAULT_LOG_BUFFER_BYTES,
  ) {
    if (!(capBytes >= 16)) throw new Error(`buffer cap must be at least 16 bytes, got ${capBytes}`);
    this.buf = Buffer.allocUnsafe(capBytes);
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    if (this.fd === undefined) throw new Error(`${this.path}: writer is closed`);
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; check exactly only when that bound does not fit.
    let bytes = text.length * 3;
    if (bytes > this.capBytes - this.used) {
      bytes = Buffer.byteLength(text, "utf8");
      if (bytes > this.capBytes - this.used) {
        this.flush();
        if (bytes > this.capBytes) {
          this.writeAll(Buffer.from(text, "utf8"));
          return;
        }
      }
    }
    this.used += this.buf.write(text, this.used, "utf8");
    if (this.used > this.maxBufferedBytes) this.maxBufferedBytes = this.used;
  }

  flush(): void {
    if (this.fd === undefined || this.used === 0) return;
    this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
    this.flushes++;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }

  private writeAll(data: Uint8Array) {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd!, data, off, data.length - off);
    this.bytesWritten += data.length;
  }
}
