/** The `sdrm3` CLI as a library (used by tests). */
export { main, buildProgram, type Io } from "./main";
export { parseDuration, parseSeed, CliInputError } from "./duration";
export { formatRunHuman, runToJson } from "./format";
