/** One top-level command of a shell script: its offsets in the script's text. */
export interface TopLevelCommand {
  start: number;
  /** Just past its last token: trailing blanks, comments and the separator are not its own. */
  end: number;
  /** `name() { … }` or `function name …`: defines, runs nothing. */
  definesFunction: boolean;
}

/** Thrown where the script is not read with confidence; the caller then leaves it alone. */
class Unsure extends Error {}

type Frame =
  | { kind: "if" | "loop" | "brace" | "paren" }
  | { kind: "case"; phase: "subject" | "in" | "pattern" | "body" };

interface Word {
  text: string;
  /** Any quoting or expansion in it: then it is never a reserved word. */
  quoted: boolean;
}

interface Heredoc {
  delimiter: string;
  stripTabs: boolean;
}

const METACHARACTERS = new Set([" ", "\t", "\n", ";", "&", "|", "<", ">", "(", ")"]);
const OPENERS = new Set(["if", "while", "until"]);

/**
 * The top-level commands of a POSIX sh script, or undefined when it cannot be read with
 * confidence. Lexes as the shell does (quotes, backslashes, `$(…)`, `$((…))`, `${…}`,
 * backticks, comments, continuation lines, heredocs) and follows compound commands (if,
 * for, while, until, case, `{ }`, `( )`, function definitions) so that only `;`, `&` and
 * newlines outside them end a command; `&&`, `||` and `|` at a line's end continue it.
 * Constructs that shells read differently (`$'…'`, `((…))`, `for ((…))`) make it unsure.
 */
export function splitTopLevelCommands(script: string): TopLevelCommand[] | undefined {
  try {
    const commands: TopLevelCommand[] = [];
    new Scanner(script).scanList(commands);
    return commands;
  } catch (error) {
    if (error instanceof Unsure) return undefined;
    throw error;
  }
}

class Scanner {
  private pos = 0;
  private pending: Heredoc[] = [];

  constructor(private readonly text: string) {}

  /**
   * A list of commands to the script's end, or (nested, `commands` undefined) to the `)`
   * that closes a `$(` or `<(`, which it consumes.
   */
  scanList(commands?: TopLevelCommand[]): void {
    const { text } = this;
    const stack: Frame[] = [];
    let atStart = true; // a reserved word would be recognised here
    let continues = false; // a newline here does not end the command (after `&&`, `|`, `f()`)
    let words = 0; // words of the current simple command
    let forHeader = 0; // words read of a `for` header, 0 when not in one
    let current: TopLevelCommand | undefined;
    let lastEnd = 0;

    const begin = (at: number) => {
      if (commands && stack.length === 0 && !current)
        current = { start: at, end: at, definesFunction: false };
    };
    const separate = () => {
      if (current && stack.length === 0) {
        current.end = lastEnd;
        commands?.push(current);
        current = undefined;
      }
      atStart = true;
      continues = false;
      words = 0;
      forHeader = 0;
    };
    const pop = (kind: Frame["kind"]) => {
      if (stack[stack.length - 1]?.kind !== kind) throw new Unsure(`unexpected end of ${kind}`);
      stack.pop();
      atStart = false;
    };

    for (;;) {
      this.skipBlanks();
      const c = text[this.pos];
      if (c === undefined) {
        if (!commands || stack.length > 0 || this.pending.length > 0)
          throw new Unsure("unterminated");
        separate();
        return;
      }
      if (c === "#") {
        while (this.pos < text.length && text[this.pos] !== "\n") this.pos++;
        continue;
      }
      if (c === "\n") {
        this.pos++;
        this.readHeredocBodies();
        if (forHeader > 0) {
          forHeader = 0;
          atStart = true;
        } else if (!continues) separate();
        continue;
      }
      const top = stack[stack.length - 1];
      if (top?.kind === "case" && top.phase !== "body") {
        this.caseHeader(top, c, () => {
          stack.pop();
          atStart = false;
        });
        lastEnd = this.pos;
        continue;
      }
      begin(this.pos);
      if (c === ";") {
        if (text[this.pos + 1] === ";" || text[this.pos + 1] === "&") {
          if (top?.kind !== "case") throw new Unsure("';;' outside case");
          this.pos += text.startsWith(";;&", this.pos) ? 3 : 2;
          top.phase = "pattern";
          continue;
        }
        this.pos++;
        separate();
        continue;
      }
      if (c === "&" || c === "|") {
        const two = text.slice(this.pos, this.pos + 2);
        if (two === "&>") {
          this.pos += text[this.pos + 2] === ">" ? 3 : 2;
          this.redirectionTarget();
        } else if (c === "&" && two !== "&&") {
          this.pos++;
          lastEnd = this.pos;
          separate();
          continue;
        } else {
          this.pos += two === "&&" || two === "||" || two === "|&" ? 2 : 1;
          atStart = true;
          continues = true;
          words = 0;
        }
        lastEnd = this.pos;
        continue;
      }
      if (c === "(") {
        if (atStart) {
          if (text[this.pos + 1] === "(") throw new Unsure("((…)) is not sh");
          stack.push({ kind: "paren" });
          this.pos++;
          continue;
        }
        if (words !== 1 || forHeader > 0) throw new Unsure("unexpected '('");
        this.pos++;
        this.skipBlanks();
        if (text[this.pos] !== ")") throw new Unsure("unexpected '('");
        this.pos++;
        if (current && stack.length === 0) current.definesFunction = true;
        atStart = true;
        continues = true;
        words = 0;
        continue;
      }
      if (c === ")") {
        this.pos++;
        if (!commands && stack.length === 0) return;
        pop("paren");
        lastEnd = this.pos;
        continue;
      }
      if (c === "<" || c === ">") {
        this.redirection();
        atStart = false;
        continues = false;
        lastEnd = this.pos;
        continue;
      }
      const word = this.readWord();
      lastEnd = this.pos;
      continues = false;
      if (forHeader > 0) {
        if (forHeader === 1 && word.text === "do" && !word.quoted) {
          forHeader = 0;
          atStart = true;
        } else forHeader++;
        continue;
      }
      if (!atStart || word.quoted) {
        if (atStart) words = 0;
        atStart = false;
        words++;
        continue;
      }
      const w = word.text;
      if (OPENERS.has(w)) stack.push({ kind: w === "if" ? "if" : "loop" });
      else if (w === "then" || w === "elif" || w === "else") {
        if (top?.kind !== "if") throw new Unsure(`'${w}' outside if`);
      } else if (w === "do") {
        if (top?.kind !== "loop") throw new Unsure("'do' outside a loop");
      } else if (w === "fi") pop("if");
      else if (w === "done") pop("loop");
      else if (w === "for" || w === "select") {
        stack.push({ kind: "loop" });
        this.skipBlanks();
        if (this.readWord().text === "") throw new Unsure("for without a name");
        lastEnd = this.pos;
        forHeader = 1;
        continue;
      } else if (w === "case") stack.push({ kind: "case", phase: "subject" });
      else if (w === "esac") {
        if (top?.kind !== "case") throw new Unsure("'esac' outside case");
        pop("case");
      } else if (w === "{") stack.push({ kind: "brace" });
      else if (w === "}") pop("brace");
      else if (w === "function") {
        this.functionHeader();
        if (current && stack.length === 0) current.definesFunction = true;
        lastEnd = this.pos;
        continues = true;
      } else if (w === "[[") {
        this.doubleBrackets();
        lastEnd = this.pos;
        atStart = false;
        words = 2;
        continue;
      } else if (w !== "!") {
        atStart = false;
        words = 1;
        continue;
      }
      // After a reserved word the next word is a command's first (but after fi, done, esac, }).
      if (!["fi", "done", "esac", "}"].includes(w)) atStart = true;
      words = 0;
    }
  }

  /** Inside `case`, before a pattern's commands: the subject, `in`, the patterns, `esac`. */
  private caseHeader(frame: Frame & { kind: "case" }, c: string, end: () => void): void {
    if (frame.phase === "pattern") {
      if (c === "(" || c === "|") {
        this.pos++;
        return;
      }
      if (c === ")") {
        this.pos++;
        frame.phase = "body";
        return;
      }
      if (METACHARACTERS.has(c)) throw new Unsure(`unexpected '${c}' in a case pattern`);
      const word = this.readWord();
      if (word.text === "esac" && !word.quoted) end();
      return;
    }
    if (METACHARACTERS.has(c)) throw new Unsure(`unexpected '${c}' in case`);
    const word = this.readWord();
    if (frame.phase === "subject") frame.phase = "in";
    else if (word.text === "in" && !word.quoted) frame.phase = "pattern";
    else throw new Unsure("case without 'in'");
  }

  /** `function name`, optionally `()`; the body follows. */
  private functionHeader(): void {
    this.skipBlanks();
    if (this.readWord().text === "") throw new Unsure("function without a name");
    this.skipBlanks();
    if (this.text[this.pos] !== "(") return;
    this.pos++;
    this.skipBlanks();
    if (this.text[this.pos] !== ")") throw new Unsure("unexpected '('");
    this.pos++;
  }

  /** bash's `[[ … ]]`: parentheses and `<`, `&&` in it are not the shell's operators. */
  private doubleBrackets(): void {
    for (;;) {
      this.skipBlanks();
      const c = this.text[this.pos];
      if (c === undefined || c === "\n" || c === ";") throw new Unsure("unterminated [[");
      if ("()<>|&".includes(c)) {
        this.pos++;
        continue;
      }
      const word = this.readWord();
      if (word.text === "]]" && !word.quoted) return;
    }
  }

  private redirection(): void {
    const { text } = this;
    const c = text[this.pos]!;
    const next = text[this.pos + 1];
    if (next === "(") {
      this.pos += 2; // <(…) and >(…): bash's process substitution
      this.scanList();
      return;
    }
    if (c === "<" && next === "<") {
      if (text[this.pos + 2] === "<") {
        this.pos += 3; // <<< here-string
        this.redirectionTarget();
        return;
      }
      const stripTabs = text[this.pos + 2] === "-";
      this.pos += stripTabs ? 3 : 2;
      this.skipBlanks();
      const start = this.pos;
      const word = this.readWord();
      if (word.text === "") throw new Unsure("heredoc without a delimiter");
      this.pending.push({ delimiter: unquote(text.slice(start, this.pos)), stripTabs });
      return;
    }
    this.pos++;
    if ((c === ">" && (next === ">" || next === "|" || next === "&")) || next === "&") this.pos++;
    else if (c === "<" && next === ">") this.pos++;
    this.redirectionTarget();
  }

  private redirectionTarget(): void {
    this.skipBlanks();
    if (this.readWord().text === "") throw new Unsure("redirection without a target");
  }

  /** After a newline token: the bodies of the heredocs its line opened, in order. */
  private readHeredocBodies(): void {
    const { text } = this;
    for (const heredoc of this.pending) {
      for (;;) {
        if (this.pos >= text.length) throw new Unsure("unterminated heredoc");
        let eol = text.indexOf("\n", this.pos);
        if (eol < 0) eol = text.length;
        let line = text.slice(this.pos, eol);
        if (heredoc.stripTabs) line = line.replace(/^\t+/, "");
        this.pos = Math.min(eol + 1, text.length);
        if (line === heredoc.delimiter) break;
      }
    }
    this.pending = [];
  }

  /** Blanks and backslash-newlines (a continued line). */
  private skipBlanks(): void {
    const { text } = this;
    for (;;) {
      const c = text[this.pos];
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && text[this.pos + 1] === "\n") this.pos += 2;
      else return;
    }
  }

  /** One word, up to a metacharacter outside quotes; its text as written. */
  private readWord(): Word {
    const { text } = this;
    const start = this.pos;
    let quoted = false;
    for (;;) {
      const c = text[this.pos];
      if (c === undefined || METACHARACTERS.has(c)) break;
      if (c !== "\\" && c !== "'" && c !== '"' && c !== "`" && c !== "$") {
        this.pos++;
        continue;
      }
      quoted = true;
      if (c === "\\") this.pos += 2;
      else if (c === "'") this.pos = this.closing("'", this.pos + 1) + 1;
      else if (c === '"') this.doubleQuoted();
      else this.expansion();
    }
    if (this.pos > text.length) throw new Unsure("backslash at the end");
    return { text: text.slice(start, this.pos), quoted };
  }

  private closing(quote: string, from: number): number {
    const at = this.text.indexOf(quote, from);
    if (at < 0) throw new Unsure(`unterminated ${quote}`);
    return at;
  }

  private doubleQuoted(): void {
    const { text } = this;
    this.pos++;
    for (;;) {
      const c = text[this.pos];
      if (c === undefined) throw new Unsure('unterminated "');
      if (c === '"') {
        this.pos++;
        return;
      }
      if (c === "\\") this.pos += 2;
      else if (c === "`" || c === "$") this.expansion();
      else this.pos++;
    }
  }

  /** At `$` or a backtick: `$name`, `${…}`, `$(…)`, `$((…))`, `` `…` ``. */
  private expansion(): void {
    const { text } = this;
    if (text[this.pos] === "`") {
      const end = this.backtickEnd(this.pos + 1);
      if (/<<|`/.test(text.slice(this.pos + 1, end).replace(/\\./g, "")))
        throw new Unsure("heredoc or nesting in backticks");
      this.pos = end + 1;
      return;
    }
    const next = text[this.pos + 1];
    if (next === "'") throw new Unsure("$'…' differs between shells");
    if (next === "(" && text[this.pos + 2] === "(") {
      this.arithmetic();
      return;
    }
    if (next === "(") {
      this.pos += 2;
      this.scanList();
      return;
    }
    if (next === "{") {
      this.parameter();
      return;
    }
    this.pos++;
  }

  private backtickEnd(from: number): number {
    const { text } = this;
    for (let i = from; i < text.length; i++) {
      if (text[i] === "\\") i++;
      else if (text[i] === "`") return i;
    }
    throw new Unsure("unterminated `");
  }

  /** `$((…))`, to the `))` that closes it. */
  private arithmetic(): void {
    const { text } = this;
    this.pos += 3;
    let depth = 0;
    for (;;) {
      const c = text[this.pos];
      if (c === undefined) throw new Unsure("unterminated $((");
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth > 0) depth--;
        else if (text[this.pos + 1] === ")") {
          this.pos += 2;
          return;
        } else throw new Unsure("$(( closed by one ')'");
      } else if (c === "'" || c === "\\") throw new Unsure("quoting in $((");
      else if (c === '"') {
        this.doubleQuoted();
        continue;
      } else if (c === "$" || c === "`") {
        this.expansion();
        continue;
      }
      this.pos++;
    }
  }

  /** `${…}`, to its `}`; a single-quoted part holding `}` is read differently by shells. */
  private parameter(): void {
    const { text } = this;
    this.pos += 2;
    for (;;) {
      const c = text[this.pos];
      if (c === undefined) throw new Unsure("unterminated ${");
      if (c === "}") {
        this.pos++;
        return;
      }
      if (c === "\\") this.pos += 2;
      else if (c === "'") {
        const end = this.closing("'", this.pos + 1);
        if (text.slice(this.pos, end).includes("}")) throw new Unsure("'}' quoted in ${");
        this.pos = end + 1;
      } else if (c === '"') this.doubleQuoted();
      else if (c === "$" || c === "`") this.expansion();
      else this.pos++;
    }
  }
}

/** A heredoc's delimiter word after quote removal, as the shell compares lines to it. */
function unquote(word: string): string {
  let out = "";
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c === "\\") out += word[++i] ?? "";
    else if (c === "'") {
      const end = word.indexOf("'", i + 1);
      out += word.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; i < word.length && word[i] !== '"'; i++) {
        if (word[i] === "\\" && '"\\$`'.includes(word[i + 1] ?? "")) i++;
        out += word[i];
      }
    } else out += c;
  }
  return out;
}
