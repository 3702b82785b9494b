// The caps of output-limits.ts as each parser applies them, and the one place (index.ts
// boundedCheck) that turns them into an error naming the host.
import { describe, expect, it } from "vitest";
import { evaluateMinProtocol, parseDoveconf } from "./dovecot";
import { boundedCheck } from "./index";
import { OUTPUT_LIMITS, OutputLimitError } from "./output-limits";
import { evaluatePostfixProtocols, parsePostconf } from "./postfix";
import { parseRegQuery } from "./reg-exe";
import { PlaybookError, type ConfigState, type Playbook } from "./types";
import type { RemoteSession } from "../transport/types";

describe("parser caps", () => {
  it("reg query: more keys than the cap is an error, not a partial picture", () => {
    const out = Array.from({ length: OUTPUT_LIMITS.regKeys + 1 }, (_, i) => `HKEY_LOCAL_MACHINE\\SOFTWARE\\K${i}`).join("\r\n");
    expect(() => parseRegQuery(out)).toThrow(OutputLimitError);
    expect(() => parseRegQuery(out)).toThrow("`reg query` output has more than 20,000 keys (the cap)");
  });

  it("reg query: keeps the first unparsed lines only, each cut short", () => {
    const out = `HKEY_LOCAL_MACHINE\\X\r\n${Array.from({ length: 5000 }, () => `garbage ${"x".repeat(2000)}`).join("\r\n")}`;
    const p = parseRegQuery(out);
    expect(p.unparsed).toHaveLength(OUTPUT_LIMITS.keptLines);
    expect(p.unparsed[0]).toMatch(/… \(truncated, 2008 characters\)$/);
  });

  it("postconf: more parameters than the cap is an error", () => {
    const out = Array.from({ length: OUTPUT_LIMITS.postconfEntries + 1 }, (_, i) => `p${i} = v`).join("\n");
    expect(() => parsePostconf(out)).toThrow("postconf output has more than 50,000 parameters (the cap)");
  });

  it("postfix protocol lists: names of Object.prototype are unknown protocols, problems are capped", () => {
    expect(evaluatePostfixProtocols("constructor")).toMatchObject({ enabled: null, problems: ['unknown protocol "constructor"'] });
    expect(evaluatePostfixProtocols(">=__proto__").enabled).toBeNull();
    expect(evaluatePostfixProtocols(Array.from({ length: 10_000 }, (_, i) => `x${i}`).join(" ")).problems).toHaveLength(OUTPUT_LIMITS.keptLines);
  });

  it("doveconf: nesting deeper than the cap is an error; a long line of spaces is linear", () => {
    const deep = `${"service x {\n".repeat(OUTPUT_LIMITS.doveconfDepth + 1)}${"}\n".repeat(OUTPUT_LIMITS.doveconfDepth + 1)}`;
    expect(() => parseDoveconf(deep)).toThrow("doveconf output has more than 64 levels of nested sections (the cap)");
    const started = performance.now();
    const p = parseDoveconf(`protocol x${" ".repeat(200_000)}y {\nssl_min_protocol = TLSv1\n}\n`);
    expect(performance.now() - started).toBeLessThan(200);
    expect(p.filters).toHaveLength(1);
    expect(evaluateMinProtocol("constructor")).toBeNull();
  });
});

describe("boundedCheck (every check the worker runs)", () => {
  const session = { hostLabel: "mx1 (198.18.0.11)" } as RemoteSession;
  const fake = (check: () => Promise<ConfigState>): Playbook<ConfigState> => ({
    id: "fake",
    appliesTo: () => true,
    check,
    plan: () => [],
    apply: () => Promise.reject(new Error("not used")),
    rollback: () => Promise.reject(new Error("not used")),
    describe: () => [],
  });
  const base: ConfigState = { playbookId: "fake", collectedAt: "2026-12-07T00:00:00.000Z", legacyEnabled: false, tls12Enabled: true, summary: "", rebootPending: false, raw: [] } as unknown as ConfigState;

  it("names the host and the cap when a parser stops at a cap", async () => {
    const p = boundedCheck(fake(() => Promise.reject(new OutputLimitError("`nginx -T` output", "configuration files", 10_000))));
    const err = await p.check(session).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as Error).message).toBe("fake check on mx1 (198.18.0.11): `nginx -T` output has more than 10,000 configuration files (the cap); it was not used.");
  });

  it("refuses a state larger than the stored-state cap; raw outputs do not count", async () => {
    const big = boundedCheck(fake(() => Promise.resolve({ ...base, notes: ["x".repeat(OUTPUT_LIMITS.stateBytes)] } as ConfigState)));
    await expect(big.check(session)).rejects.toThrow(/fake check on mx1 \(198\.18\.0\.11\): the configuration state is 8,388,[0-9]{3} bytes, more than the 8,388,608-byte cap/);
    const rawOnly = boundedCheck(fake(() => Promise.resolve({ ...base, raw: [{ argv: ["x"], exitCode: 0, stdout: "x".repeat(OUTPUT_LIMITS.stateBytes + 1), stderr: "" }] })));
    await expect(rawOnly.check(session)).resolves.toMatchObject({ playbookId: "fake" });
  });
});
