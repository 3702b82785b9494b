import { describe, expect, it } from "vitest";
import { compileGlob, NAME_MAX, PATH_MAX } from "./glob";

// Expected results as glob(3) on glibc gives them (POSIX 2.13.3: "/" and a leading "." are
// matched only explicitly).
const cases: Array<[pattern: string, path: string, matches: boolean]> = [
  ["/etc/nginx/conf.d/*.conf", "/etc/nginx/conf.d/default.conf", true],
  ["/etc/nginx/conf.d/*.conf", "/etc/nginx/conf.d/default.conf.bak", false],
  ["/etc/nginx/conf.d/*.conf", "/etc/nginx/conf.d/sub/x.conf", false],
  ["/etc/nginx/sites-enabled/*", "/etc/nginx/sites-enabled/example", true],
  ["/etc/nginx/sites-enabled/*", "/etc/nginx/sites-enabled/.hidden", false],
  ["/etc/nginx/sites-enabled/.*", "/etc/nginx/sites-enabled/.hidden", true],
  ["/etc/nginx/sites-enabled/?idden", "/etc/nginx/sites-enabled/.idden", false],
  ["/etc/nginx/sites-enabled/[.]hidden", "/etc/nginx/sites-enabled/.hidden", false],
  ["/etc/*/x", "/etc/a/b/x", false],
  ["/etc/*/x", "/etc/a/x", true],
  ["/etc/?", "/etc/a", true],
  ["/etc/?", "/etc/ab", false],
  ["/etc/?", "/etc/", false],
  ["/etc/*", "/etc/", true],
  ["/e*c/x", "/etc/x", true],
  ["/etc/[a-c]x", "/etc/bx", true],
  ["/etc/[a-c]x", "/etc/dx", false],
  ["/etc/[!a-c]x", "/etc/dx", true],
  ["/etc/[^a-c]x", "/etc/ax", false],
  ["/etc/[]]x", "/etc/]x", true],
  ["/etc/[]a]x", "/etc/ax", true],
  ["/etc/[a-]x", "/etc/-x", true],
  ["/etc/[[:digit:]]x", "/etc/7x", true],
  ["/etc/[[:digit:]]x", "/etc/ax", false],
  ["/etc/[abc", "/etc/[abc", true],
  ["/etc/[abc", "/etc/a", false],
  ["/etc/[a/b]", "/etc/[a/b]", true],
  ["/etc/\\*", "/etc/*", true],
  ["/etc/\\*", "/etc/x", false],
  ["/etc/a**b", "/etc/axxb", true],
  ["/etc/*a*b*c*", "/etc/xxaxxbxxcxx", true],
  ["/etc/*a*b*c*", "/etc/xxaxxcxxbxx", false],
  ["/etc/*.conf", "/etc/.conf", false],
  ["", "", true],
  ["/etc/nginx.conf", "/etc/nginx.conf", true],
  ["/etc/nginx.conf", "/etc/nginxXconf", false],
];

describe("compileGlob (glob(3) semantics, linear-time matcher)", () => {
  it.each(cases)("%s against %s -> %s", (pattern, path, matches) => {
    expect(compileGlob(pattern).test(path)).toBe(matches);
  });

  it("matches a pathological pattern against a long path of a's in milliseconds (a backtracking RegExp takes minutes)", () => {
    const pattern = "/a*a*a*a*a*a*a*a*a*a*b";
    // The longest name Linux allows (NAME_MAX), in every segment of a path near PATH_MAX.
    const name = "a".repeat(NAME_MAX);
    const path = `/${Array.from({ length: 15 }, () => name).join("/")}`;
    const deep = `/${Array.from({ length: 15 }, () => "a*a*a*a*a*a*a*a*a*a*b").join("/")}`;
    const started = performance.now();
    expect(compileGlob(pattern).test(`/${name}`)).toBe(false);
    expect(compileGlob(pattern).test(`/${name.slice(1)}b`)).toBe(true);
    expect(compileGlob(deep).test(path)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("a name longer than NAME_MAX or a path longer than PATH_MAX matches nothing, unscanned", () => {
    const meter = { steps: 0 };
    expect(compileGlob("/*").test(`/${"a".repeat(NAME_MAX + 1)}`, meter)).toBe(false);
    expect(compileGlob("/*/*").test(`/${"a".repeat(200)}/${"b".repeat(PATH_MAX)}`, meter)).toBe(false);
    expect(compileGlob(`/${"?".repeat(NAME_MAX + 1)}`).test(`/${"a".repeat(NAME_MAX)}`, meter)).toBe(false);
    expect(meter.steps).toBe(0);
    expect(compileGlob(`/${"*".repeat(10_000)}x`).test("/ax", meter)).toBe(true);
  });

  it("meters its steps, bounded by the path length times the pattern length", () => {
    const meter = { steps: 0 };
    compileGlob(`/${"*a".repeat(100)}b`).test(`/${"a".repeat(NAME_MAX)}`, meter);
    expect(meter.steps).toBeGreaterThan(NAME_MAX);
    expect(meter.steps).toBeLessThanOrEqual(NAME_MAX * 202);
  });
});
