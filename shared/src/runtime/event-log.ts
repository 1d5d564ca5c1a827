/**
 * The event log (DESIGN.md §9, docs/event-log.md): recording a run's kernel inputs and events as
 * JSONL, and reading a log back with line-precise errors. One module per concern, under
 * event-log/:
 *
 *   writer     BufferedFileWriter: a fixed buffer flushed with fs.writeSync (flat memory)
 *   codec      the bytes of the header and of each entry; EventLogSink and the JSONL file sink
 *   recorder   EventRecorder, the KernelObserver that records
 *   header     the header from a run's options and back (run options, kernel configuration);
 *              the sdrm3 and behaviour versions, and the behaviour check a replay makes
 *   lines      a log's lines, streamed, under MAX_LOG_LINE_BYTES
 *   reader     openLog / openLogFile: the header and the decoded entries, every defect a
 *              LogFormatError naming its line
 *   errors     LogFormatError, LogFileError
 */
export * from "./event-log/writer";
export * from "./event-log/codec";
export * from "./event-log/recorder";
export * from "./event-log/header";
export * from "./event-log/lines";
export * from "./event-log/reader";
export * from "./event-log/errors";
