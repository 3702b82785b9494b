// glob(3) pattern matching for nginx's `include` (nginx expands include patterns with glob(),
// src/os/unix/ngx_files.c ngx_open_glob, flags 0), written as a matcher instead of a RegExp.
//
// Why not a RegExp: both the pattern and the paths come from the host (`nginx -T`), and a
// pattern such as `/a*a*a*a*a*a*a*a*a*a*b` compiled to `[^/]*` runs backtrack through every way
// of splitting a long name, which blocks the worker's event loop for minutes: its lease expires,
// the next worker takes the task over and blocks the same way. This matcher keeps only the last
// `*` it may resume from (the classic wildcard algorithm), so one match costs at most
// O(pattern length x name length) per path segment, never exponential. And since both sides come
// from the host, that product is bounded too: a name longer than NAME_MAX or a path longer than
// PATH_MAX cannot exist on Linux (limits.h: 255 and 4096 bytes), so such a path, or a pattern
// segment that needs more than NAME_MAX characters, matches nothing without being scanned. The
// caller can meter the steps (`test(path, meter)`) to bound many matches together.
//
// Semantics, as glob(3) on glibc (POSIX.1-2017 "Pattern Matching Notation" 2.13, with the
// pathname rules of 2.13.3):
// - patterns and paths are compared segment by segment ("/" only ever matches "/");
// - `*` matches any run of characters, `?` one character, `[...]` one character of a class:
//   ranges `a-z`, negation `[!...]` (and glibc's `[^...]`), `]` first is literal, POSIX classes
//   such as `[:digit:]`; a `[` without its `]` in the same segment is an ordinary character;
// - a leading "." of a name is matched only by a literal "." in the pattern (not `*`, `?`, or a
//   class);
// - a backslash makes the next character literal (glob() without GLOB_NOESCAPE).

type Token =
  | { kind: "literal"; char: string }
  | { kind: "any" }
  | { kind: "star" }
  | { kind: "class"; negated: boolean; items: ClassItem[] };

type ClassItem = { kind: "char"; char: string } | { kind: "range"; from: number; to: number } | { kind: "named"; test: (c: string) => boolean };

const NAMED_CLASSES: Record<string, (c: string) => boolean> = {
  alpha: (c) => /^[A-Za-z]$/.test(c),
  digit: (c) => /^[0-9]$/.test(c),
  alnum: (c) => /^[A-Za-z0-9]$/.test(c),
  upper: (c) => /^[A-Z]$/.test(c),
  lower: (c) => /^[a-z]$/.test(c),
  space: (c) => /^[ \t\n\r\f\v]$/.test(c),
  blank: (c) => c === " " || c === "\t",
  punct: (c) => /^[!-/:-@[-`{-~]$/.test(c),
  xdigit: (c) => /^[0-9A-Fa-f]$/.test(c),
  cntrl: (c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f,
  print: (c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f,
  graph: (c) => c.charCodeAt(0) > 0x20 && c.charCodeAt(0) !== 0x7f,
};

/** A bracket expression starting at `seg[k] === "["`; null when it has no closing "]". */
function parseClass(seg: string, k: number): { token: Token; next: number } | null {
  let j = k + 1;
  let negated = false;
  if (seg[j] === "!" || seg[j] === "^") {
    negated = true;
    j++;
  }
  const items: ClassItem[] = [];
  let first = true;
  while (j < seg.length) {
    const c = seg[j]!;
    if (c === "]" && !first) return { token: { kind: "class", negated, items }, next: j + 1 };
    first = false;
    if (c === "[" && seg[j + 1] === ":") {
      const end = seg.indexOf(":]", j + 2);
      const named = end < 0 ? undefined : NAMED_CLASSES[seg.slice(j + 2, end)];
      if (named) {
        items.push({ kind: "named", test: named });
        j = end + 2;
        continue;
      }
    }
    let ch = c;
    if (c === "\\" && j + 1 < seg.length) ch = seg[++j]!;
    if (seg[j + 1] === "-" && j + 2 < seg.length && seg[j + 2] !== "]") {
      let to = seg[j + 2]!;
      let after = j + 3;
      if (to === "\\" && j + 3 < seg.length) {
        to = seg[j + 3]!;
        after = j + 4;
      }
      items.push({ kind: "range", from: ch.codePointAt(0)!, to: to.codePointAt(0)! });
      j = after;
      continue;
    }
    items.push({ kind: "char", char: ch });
    j++;
  }
  return null;
}

function tokenize(segment: string): Token[] {
  const tokens: Token[] = [];
  for (let k = 0; k < segment.length; ) {
    const c = segment[k]!;
    if (c === "*") {
      // Consecutive stars are one star: the matcher's cost does not grow with them.
      if (tokens[tokens.length - 1]?.kind !== "star") tokens.push({ kind: "star" });
      k++;
    } else if (c === "?") {
      tokens.push({ kind: "any" });
      k++;
    } else if (c === "[") {
      const parsed = parseClass(segment, k);
      if (parsed) {
        tokens.push(parsed.token);
        k = parsed.next;
      } else {
        tokens.push({ kind: "literal", char: "[" });
        k++;
      }
    } else if (c === "\\" && k + 1 < segment.length) {
      tokens.push({ kind: "literal", char: segment[k + 1]! });
      k += 2;
    } else {
      tokens.push({ kind: "literal", char: c });
      k++;
    }
  }
  return tokens;
}

function classMatches(t: Extract<Token, { kind: "class" }>, c: string): boolean {
  const code = c.codePointAt(0)!;
  const hit = t.items.some((i) => (i.kind === "char" ? i.char === c : i.kind === "range" ? code >= i.from && code <= i.to : i.test(c)));
  return hit !== t.negated;
}

function tokenMatches(t: Token, c: string): boolean {
  if (t.kind === "literal") return t.char === c;
  if (t.kind === "any") return true;
  if (t.kind === "class") return classMatches(t, c);
  return false;
}

/** Linux limits.h: longest file name and path (bytes; characters here, which is no looser). */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

/** Counts matcher steps across tests (see resolveNginx's budget). */
export interface GlobMeter {
  steps: number;
}

/** One path segment against one pattern segment: greedy with a single resume point. */
function matchSegment(tokens: readonly Token[], name: string, meter: GlobMeter): boolean {
  // A leading "." is matched only by a literal "." (glob(3) without GLOB_PERIOD).
  if (name.startsWith(".")) {
    const first = tokens[0];
    if (!first || first.kind !== "literal" || first.char !== ".") return false;
  }
  let t = 0;
  let i = 0;
  let starT = -1;
  let starI = 0;
  while (i < name.length) {
    meter.steps++;
    const tok = tokens[t];
    if (tok && tok.kind === "star") {
      starT = t++;
      starI = i;
      continue;
    }
    if (tok && tokenMatches(tok, name[i]!)) {
      t++;
      i++;
      continue;
    }
    if (starT < 0) return false;
    // Let the last star take one more character and retry from just after it. Earlier stars
    // never need revisiting: whatever they would take, the last star can take instead.
    t = starT + 1;
    i = ++starI;
  }
  while (t < tokens.length && tokens[t]!.kind === "star") t++;
  return t === tokens.length;
}

export interface GlobMatcher {
  readonly pattern: string;
  /** At most about PATH_MAX x (NAME_MAX + 1) steps, whatever the pattern and path. */
  test(path: string, meter?: GlobMeter): boolean;
}

/** Compiles a glob(3) pattern once. */
export function compileGlob(pattern: string): GlobMatcher {
  // A pattern longer than PATH_MAX could still match (classes are long, "**" is one star), so
  // it is tokenized; a segment needing more than NAME_MAX characters can never match.
  const segments = pattern.length > 64 * PATH_MAX ? null : pattern.split("/").map(tokenize);
  const impossible = segments === null || segments.some((tokens) => tokens.filter((x) => x.kind !== "star").length > NAME_MAX);
  return {
    pattern,
    test(path: string, meter: GlobMeter = { steps: 0 }): boolean {
      if (impossible || path.length > PATH_MAX) return false;
      const names = path.split("/");
      if (names.length !== segments.length) return false;
      for (const name of names) if (name.length > NAME_MAX) return false;
      for (let k = 0; k < names.length; k++) if (!matchSegment(segments[k]!, names[k]!, meter)) return false;
      return true;
    },
  };
}

/** True when the pattern has glob characters (an include without them names one file). */
export function hasGlobCharacters(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
