import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { quotePosix } from "../transport/quote";
import type { ExecOptions, ExecResult, RemoteSession } from "../transport/types";
import { runBatch } from "./linux-common";
import { PlaybookError } from "./types";

/**
 * A session on this machine that does what sshd does with a command: hands the command line to
 * the user's shell (`sh -c LINE`). `rcNoise` is what a login shell's rc file prints to stdout
 * first (the lab's root ~/.bashrc initialises pyenv, a real server's may print anything).
 */
function localSession(rcNoise = ""): RemoteSession & { calls: number } {
  const session = {
    hostLabel: "local",
    kind: "ssh" as const,
    remoteOs: "linux" as const,
    calls: 0,
    close: async () => undefined,
    exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      session.calls += 1;
      const line = `${rcNoise ? `printf '%s' ${quotePosix([rcNoise])}; ` : ""}${quotePosix(argv)}`;
      return new Promise((resolve, reject) => {
        const child = spawn("sh", ["-c", line], { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.on("error", reject);
        child.on("close", (code) =>
          resolve({ exitCode: code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), truncated: false, durationMs: 0 }),
        );
        child.stdin.end(opts.stdin ?? "");
      });
    },
  };
  return session;
}

describe("runBatch", () => {
  it("runs every step in one shell and returns each step's own exit code, stdout and stderr, byte for byte", async () => {
    const s = localSession();
    const ran = await runBatch(s, [
      ["printf", "%s", "one\ntwo\n\n"],
      ["sh", "-c", 'printf "%s" "$1" >&2; exit 3', "sh", "to stderr: ünïcödé 'quoted' $HOME `x`"],
      ["printf", ""],
      ["tlsfleet-no-such-program"],
    ]);
    expect(s.calls).toBe(1);
    expect(ran.map((r) => r.exitCode)).toEqual([0, 3, 0, 127]);
    expect(ran[0]!.stdout).toBe("one\ntwo\n\n");
    expect(ran[1]!.stderr).toBe("to stderr: ünïcödé 'quoted' $HOME `x`");
    expect(ran[1]!.stdout).toBe("");
    expect(ran[2]!).toMatchObject({ stdout: "", stderr: "" });
    expect(ran[3]!.argv).toEqual(["tlsfleet-no-such-program"]);
  });

  it("stops at the first failing gate; later steps never run", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfleet-batch-"));
    const marker = path.join(dir, "ran");
    try {
      const ran = await runBatch(localSession(), [["true"], ["false"], ["touch", marker]], { stopOnFailure: true });
      expect(ran.map((r) => r.exitCode)).toEqual([0, 1]);
      expect(fs.existsSync(marker)).toBe(false);

      // Only the first two are gates: the third runs after a failing second... no: the second
      // passes, the third fails and is not a gate, the fourth still runs.
      const partial = await runBatch(localSession(), [["true"], ["true"], ["false"], ["touch", marker]], { stopOnFailure: 2 });
      expect(partial.map((r) => r.exitCode)).toEqual([0, 0, 1, 0]);
      expect(fs.existsSync(marker)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is not confused by a login shell that prints to stdout, even lines that look like its frames", async () => {
    const s = localSession("pyenv: cannot rehash\n@@tlsfleet-step 1 0 Z2FyYmFnZQ== \n");
    const ran = await runBatch(s, [["echo", "value"]]);
    expect(ran).toHaveLength(1);
    expect(ran[0]!.stdout).toBe("value\n");
  });

  it("says how far it got when the shell itself dies midway", async () => {
    const err = await runBatch(localSession(), [["true"], ["sh", "-c", "kill -9 $PPID"], ["true"]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaybookError);
    expect((err as Error).message).toMatch(/A batch of 3 commands on local stopped after 1 \(next: `sh -c kill -9 \$PPID`\)/);
  });
});
