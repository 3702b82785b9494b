// The image must never contain the database, secrets, credential keys or host-installed modules (issue 9).
// Docker's .dockerignore uses Go filepath.Match patterns per path; this checks the lines that
// matter are present as exact patterns, and that no `!` exception re-includes them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const lines = readFileSync(path.resolve(import.meta.dirname, "../../../.dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

describe(".dockerignore", () => {
  it.each([".data/", "**/.data/", ".keys/", "**/.keys/", ".audit-key/", ".env", ".env*", "**/.env*", "node_modules/", "tests/lab/.state/"])("excludes %s", (pattern) => {
    expect(lines).toContain(pattern);
  });
  it("re-includes nothing", () => {
    expect(lines.filter((l) => l.startsWith("!"))).toEqual([]);
  });
});

describe("the default credential key directory", () => {
  it("is one .dockerignore excludes", async () => {
    // Read from the schema's default, so a changed default without a matching line fails here.
    const { env } = await import("../../../lib/env");
    expect(lines).toContain(`${env.TLSFLEET_KEY_DIR.replace(/^\.\//, "").replace(/\/?$/, "/")}`);
  });
});
