/**
 * Locates the first syntax error of a JSON text, for error messages. JSON.parse reports a position
 * for only some errors (Node 20 says e.g. `Unexpected token ']', "…" is not valid JSON` with no
 * offset), so after JSON.parse has failed this small recursive-descent scanner finds where and
 * what was expected. It validates only; it builds no values.
 */

export interface JsonSyntaxError {
  readonly offset: number;
  readonly expected: string;
  readonly actual: string;
}

class SyntaxFailure {
  constructor(
    readonly offset: number,
    readonly expected: string,
  ) {}
}

/** The first syntax error of `text`, or undefined if it is valid JSON. */
export const findJsonSyntaxError = (text: string): JsonSyntaxError | undefined => {
  const scanner = new Scanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (failure) {
    if (!(failure instanceof SyntaxFailure)) throw failure;
    return { offset: failure.offset, expected: failure.expected, actual: showAt(text, failure.offset) };
  }
};

const showAt = (text: string, offset: number): string => {
  const ch = text[offset];
  if (ch === undefined) return "the end of the file";
  if (ch === "\n" || ch === "\r") return "the end of the line";
  return `'${ch}'`;
};

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"];

class Scanner {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.value("a JSON value");
    this.space();
    if (this.at < this.text.length) this.fail("the end of the file (only one top-level value)");
  }

  private value(expected: string): void {
    this.space();
    const ch = this.text[this.at];
    if (ch === "{") this.object();
    else if (ch === "[") this.array();
    else if (ch === '"') this.string();
    else if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) this.number();
    else this.literal(expected);
  }

  private object(): void {
    this.at++; // {
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') this.fail("a property name in double quotes");
      this.string();
      this.space();
      this.expect(":", "':' after the property name");
      this.value("a value after ':'");
      this.space();
      if (this.text[this.at] === "}") {
        this.at++;
        return;
      }
      this.expect(",", "',' or '}' after the property value");
    }
  }

  private array(): void {
    this.at++; // [
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return;
    }
    for (;;) {
      this.value("a value");
      this.space();
      if (this.text[this.at] === "]") {
        this.at++;
        return;
      }
      this.expect(",", "',' or ']' after the array element");
    }
  }

  private string(): void {
    this.at++; // opening quote
    for (;;) {
      const ch = this.text[this.at];
      if (ch === undefined) this.fail("a closing '\"'");
      else if (ch === '"') {
        this.at++;
        return;
      } else if (ch === "\\") {
        const escape = this.text[this.at + 1];
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) {
            this.fail("four hex digits after \\u", this.at + 2);
          }
          this.at += 6;
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) this.at += 2;
        else this.fail("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", this.at + 1);
      } else if (ch < " ") this.fail("no control character inside a string (escape it)");
      else this.at++;
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null || match[0] === "-") this.fail("a number", this.at + (match?.[0].length ?? 0));
    this.at += match?.[0].length ?? 0;
  }

  private literal(expected: string): void {
    const word = LITERALS.find((candidate) => this.text.startsWith(candidate, this.at));
    if (word === undefined) this.fail(expected);
    this.at += word?.length ?? 0;
  }

  private space(): void {
    while (this.at < this.text.length && " \t\n\r".includes(this.text[this.at] ?? "")) this.at++;
  }

  private expect(ch: string, expected: string): void {
    if (this.text[this.at] !== ch) this.fail(expected);
    this.at++;
  }

  private fail(expected: string, offset: number = this.at): never {
    throw new SyntaxFailure(offset, expected);
  }
}
