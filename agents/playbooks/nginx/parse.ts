// One nginx configuration file as nginx's own tokenizer reads it (pure).

export interface NginxDirective {
  name: string;
  args: string[];
  /** 1-based line of the directive name in its file. */
  line: number;
  /** Offsets in the file's text: from the name to just after ";" or after the block's "}". */
  start: number;
  end: number;
  /** Children for a block directive ("http {...}"), null otherwise. */
  block: NginxDirective[] | null;
  /** Offset just after "{" for a block. */
  blockOpen: number | null;
}

export class NginxSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "NginxSyntaxError";
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", t: "\t", r: "\r", n: "\n" };
const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

/**
 * Parses one nginx configuration file into directives with their positions. Follows
 * ngx_conf_read_token (src/core/ngx_conf_file.c): words end at whitespace, ";" or "{"; "}" ends a
 * block only at the start of a token; "#" starts a comment only at the start of a token; single
 * and double quotes with backslash escapes; "{" right after "$" belongs to a ${variable}.
 * Blocks whose name ends in "_by_lua_block" hold Lua and are skipped as balanced braces.
 */
export function parseNginxConfig(text: string): NginxDirective[] {
  let i = 0;
  let line = 1;
  const n = text.length;

  const advance = () => {
    if (text[i] === "\n") line++;
    i++;
  };

  // The word being read: runs between escapes are sliced, not appended a character at a time (a
  // host can send a quoted string of many megabytes).
  let value = "";
  let run = 0;
  /** At a backslash: the run before it, then the escaped character. */
  const takeEscape = () => {
    const e = text[i + 1]!;
    value += text.slice(run, i) + (ESCAPES[e] ?? `\\${e}`);
    advance();
    advance();
    run = i;
  };

  type Token = { kind: "word"; value: string; start: number; line: number } | { kind: ";" | "{" | "}"; start: number; line: number } | { kind: "eof" };

  const next = (): Token => {
    for (;;) {
      while (i < n && isSpace(text[i]!)) advance();
      if (i >= n) return { kind: "eof" };
      if (text[i] === "#") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      break;
    }
    const start = i;
    const startLine = line;
    const c = text[i]!;
    if (c === ";" || c === "{" || c === "}") {
      i++;
      return { kind: c, start, line: startLine };
    }
    value = "";
    run = i;
    if (c === '"' || c === "'") {
      i++;
      run = i;
      for (;;) {
        if (i >= n) throw new NginxSyntaxError(startLine, "unexpected end of file in a quoted string");
        const ch = text[i]!;
        if (ch === "\\" && i + 1 < n) {
          takeEscape();
          continue;
        }
        if (ch === c) {
          value += text.slice(run, i);
          i++;
          break;
        }
        advance();
      }
      if (i < n && !isSpace(text[i]!) && text[i] !== ";" && text[i] !== "{") throw new NginxSyntaxError(line, `unexpected "${text[i]}" after a quoted string`);
      return { kind: "word", value, start, line: startLine };
    }
    let variable = false;
    let inBraces = false;
    while (i < n) {
      const ch = text[i]!;
      if (inBraces) {
        advance();
        if (ch === "}") inBraces = false;
        continue;
      }
      if (ch === "{" && variable) {
        inBraces = true;
        variable = false;
        advance();
        continue;
      }
      if (isSpace(ch) || ch === ";" || ch === "{") break;
      variable = ch === "$";
      if (ch === "\\" && i + 1 < n) {
        takeEscape();
        continue;
      }
      advance();
    }
    value += text.slice(run, i);
    return { kind: "word", value, start, line: startLine };
  };

  // Lua text: braces are counted outside Lua strings ('...', "..." with backslash escapes) and
  // "--" comments; long brackets ([[...]]) are not understood.
  const skipLuaBlock = (openLine: number) => {
    let depth = 1;
    while (i < n && depth > 0) {
      const ch = text[i]!;
      if (ch === "'" || ch === '"') {
        advance();
        while (i < n && text[i] !== ch && text[i] !== "\n") {
          if (text[i] === "\\") advance();
          advance();
        }
      } else if (ch === "-" && text[i + 1] === "-") {
        while (i < n && text[i] !== "\n") advance();
        continue;
      } else if (ch === "{") depth++;
      else if (ch === "}") depth--;
      advance();
    }
    if (depth > 0) throw new NginxSyntaxError(openLine, "unterminated Lua block");
  };

  const parseBlock = (depth: number): { directives: NginxDirective[]; closed: boolean } => {
    if (depth > 64) throw new NginxSyntaxError(line, "blocks nested too deeply");
    const directives: NginxDirective[] = [];
    for (;;) {
      const t = next();
      if (t.kind === "eof") return { directives, closed: false };
      if (t.kind === "}") {
        if (depth === 0) throw new NginxSyntaxError(t.line, 'unexpected "}"');
        return { directives, closed: true };
      }
      if (t.kind !== "word") throw new NginxSyntaxError(t.line, `unexpected "${t.kind}"`);
      const name = t.value;
      const args: string[] = [];
      for (;;) {
        const a = next();
        if (a.kind === "word") {
          args.push(a.value);
          continue;
        }
        if (a.kind === ";") {
          directives.push({ name, args, line: t.line, start: t.start, end: a.start + 1, block: null, blockOpen: null });
          break;
        }
        if (a.kind === "{") {
          const blockOpen = a.start + 1;
          if (/_by_lua_block$/.test(name)) {
            skipLuaBlock(a.line);
            directives.push({ name, args, line: t.line, start: t.start, end: i, block: [], blockOpen });
            break;
          }
          const inner = parseBlock(depth + 1);
          if (!inner.closed) throw new NginxSyntaxError(t.line, `"${name}" block is not closed`);
          directives.push({ name, args, line: t.line, start: t.start, end: i, block: inner.directives, blockOpen });
          break;
        }
        throw new NginxSyntaxError(a.kind === "eof" ? line : a.line, `directive "${name}" is not terminated by ";"`);
      }
    }
  };

  return parseBlock(0).directives;
}

/** Every directive in the tree, at any depth, for which `pred` holds. */
export function findAll(dirs: NginxDirective[], pred: (d: NginxDirective) => boolean, out: NginxDirective[] = []): NginxDirective[] {
  for (const d of dirs) {
    if (pred(d)) out.push(d);
    if (d.block) findAll(d.block, pred, out);
  }
  return out;
}
