import { describe, expect, it } from "vitest";
import { boundedLogLine, MAX_TASK_LOG_LINE_BYTES, TaskLogBudget } from "./task-log";

describe("boundedLogLine", () => {
  it("keeps a short line as it is", () => {
    expect(boundedLogLine("postfix: smtpd_tls_protocols = >=TLSv1.2")).toBe("postfix: smtpd_tls_protocols = >=TLSv1.2");
  });

  it("cuts a long line and says how many bytes were left out", () => {
    const line = "x".repeat(10_000);
    const out = boundedLogLine(line);
    expect(out).toBe(`${"x".repeat(MAX_TASK_LOG_LINE_BYTES)}… (truncated, ${10_000 - MAX_TASK_LOG_LINE_BYTES} bytes)`);
  });

  it("cuts on a character boundary (no broken UTF-8)", () => {
    const out = boundedLogLine("é".repeat(10), 5);
    expect(out).toBe("éé… (truncated, 16 bytes)");
  });

  it("replaces NUL, which PostgreSQL text cannot store", () => {
    expect(boundedLogLine("a\0b")).toBe("a\\0b");
  });
});

describe("TaskLogBudget", () => {
  it("lets lines through up to the budget, then writes one note and counts what it left out", () => {
    const b = new TaskLogBudget(10);
    expect(b.take("12345\n")).toBe("12345\n");
    expect(b.take("123\n")).toBe("123\n");
    expect(b.take("abc\n")).toMatch(/^… task log full \(10 bytes for this attempt\)/);
    expect(b.take("d\n")).toBeNull();
    // Once full, stays full: a later short line would read as if nothing was missing before it.
    expect(b.take("\n")).toBeNull();
    expect(b.closingNote()).toBe("(truncated, 7 bytes: 3 log lines left out)\n");
  });

  it("has nothing to say when nothing was left out", () => {
    expect(new TaskLogBudget().closingNote()).toBe("");
  });
});
