/**
 * Files a command writes never collide: two outputs on one file, or an output over one of the
 * command's inputs, are refused before any work starts (CliInputError, exit 2), naming both
 * flags. Paths are compared after normalisation (`./x` and `x`, symbolic links to one file).
 */
import { realpathSync } from "node:fs";
import { extname, resolve } from "node:path";
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

/** Throws when two `outputs`, or an output and an input, name the same file. */
export const checkOutputPaths = (outputs: ReadonlyArray<NamedPath>, inputs: ReadonlyArray<NamedPath> = []): void => {
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
