/**
 * Files a command writes never collide: two outputs on one file, or an output over one of the
 * command's inputs, are refused before any work starts (CliInputError, exit 2), naming both
 * flags. Paths are compared after normalisation (`./x` and `x`, symbolic links to one file). An
 * output that cannot be written (a directory, a missing or unwritable directory) is refused before
 * any work too, naming its flag: it failed after the run, or after truncating another output, with
 * exit 1 and the bare system error.
 */
import { type Stats, accessSync, constants, realpathSync, statSync, statfsSync } from "node:fs";
import { dirname, extname, resolve, sep } from "node:path";
import { CliInputError } from "./duration";

/** A file a command reads or writes, with the flag or argument that names it. */
export type NamedPath = readonly [name: string, path: string | undefined];

const normalised = (path: string): string => {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute; // not there yet: the output creates it
  }
};

const statOf = (path: string): Stats | undefined => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The kernel's own file systems (statfs magic numbers, linux/magic.h): nothing a command writes
 * belongs there, and Node's recursive mkdir never returns on /proc (`compare --out /proc/x` hung).
 * Access checks pass there for root, so they are named by their type.
 */
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
]);

const kernelFileSystem = (dir: string): string | undefined => {
  try {
    return KERNEL_FILE_SYSTEMS.get(Number(statfsSync(dir).type));
  } catch {
    return undefined; // no statfs here: the access checks decide
  }
};

/** Throws unless `dir`, the directory an output goes in, exists and can be written. */
const checkParentDir = (name: string, path: string, dir: string): void => {
  const st = statOf(dir);
  if (st === undefined) throw new CliInputError(`${name} '${path}': the directory '${dir}' does not exist`);
  if (!st.isDirectory()) throw new CliInputError(`${name} '${path}': '${dir}' is not a directory`);
  const kernel = kernelFileSystem(dir);
  if (kernel !== undefined) throw new CliInputError(`${name} '${path}': '${dir}' is on the kernel's ${kernel} file system, where a command's output cannot go`);
  if (!writable(dir)) throw new CliInputError(`${name} '${path}': the directory '${dir}' is not writable`);
};

/** Throws unless `path` names a file the command can create or overwrite. */
export const checkOutputFile = (name: string, path: string): void => {
  if (path.trim() === "") throw new CliInputError(`${name}: expected a file path, got ''`);
  const absolute = resolve(path);
  const st = statOf(absolute);
  if (st?.isDirectory() === true || path.endsWith("/") || path.endsWith(sep)) throw new CliInputError(`${name} '${path}' is a directory: give a file`);
  checkParentDir(name, path, dirname(absolute));
  if (st !== undefined && !writable(absolute)) throw new CliInputError(`${name} '${path}' is not writable`);
};

/** Throws unless `path` names a directory the command can write in, or create (its nearest existing ancestor is a writable directory). */
export const checkOutputDir = (name: string, path: string): void => {
  if (path.trim() === "") throw new CliInputError(`${name}: expected a directory, got ''`);
  const absolute = resolve(path);
  const st = statOf(absolute);
  if (st !== undefined && !st.isDirectory()) throw new CliInputError(`${name} '${path}' is not a directory`);
  // an existing directory is checked as a file's directory is (kernel file systems, writability)
  if (st !== undefined) return checkParentDir(name, path, absolute);
  let ancestor = dirname(absolute);
  while (statOf(ancestor) === undefined && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
  checkParentDir(name, path, ancestor);
};

/** Throws when two `outputs`, or an output and an input, name the same file, or an output cannot be written (checkOutputFile). */
export const checkOutputPaths = (outputs: ReadonlyArray<NamedPath>, inputs: ReadonlyArray<NamedPath> = []): void => {
  for (const [name, path] of outputs) if (path !== undefined) checkOutputFile(name, path);
  const seen = new Map<string, { readonly name: string; readonly input: boolean }>();
  for (const [name, path] of inputs) if (path !== undefined) seen.set(normalised(path), { name, input: true });
  for (const [name, path] of outputs) {
    if (path === undefined) continue;
    const key = normalised(path);
    const other = seen.get(key);
    if (other !== undefined) {
      throw new CliInputError(
        other.input
          ? `${name} '${path}' is the file ${other.name} reads: write to another file`
          : `${other.name} and ${name} both write '${path}': give each its own file`,
      );
    }
    seen.set(key, { name, input: false });
  }
};

/** The image format of an output file by its extension; another extension is refused, listing the valid ones. */
export const imageFormat = (path: string, flag: string): "png" | "svg" => {
  const ext = extname(path).toLowerCase();
  if (ext === ".png" || ext === ".svg") return ext === ".png" ? "png" : "svg";
  throw new CliInputError(`${flag}: '${path}' has ${ext === "" ? "no extension" : `the extension '${ext}'`}; valid: .png, .svg`);
};
