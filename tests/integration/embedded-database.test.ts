// With no DATABASE_URL, tlsfleet starts its own PostgreSQL under DATA_DIR and keeps the data
// across restarts: the path `npm install && npm start` takes on a fresh clone.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dataDir = path.join(ROOT, ".data", `embedded-test-${process.pid}`);
const keyDir = path.join(dataDir, "..", `embedded-test-${process.pid}-audit-key`);

function tlsfleet(...args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, TLSFLEET_AUDIT_KEY_DIR: keyDir };
  delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/tlsfleet"), ...args], { cwd: ROOT, env: env as NodeJS.ProcessEnv, encoding: "utf8", timeout: 180_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

describe("embedded PostgreSQL", () => {
  it("initialises on first use, applies migrations, and keeps them across restarts", () => {
    const first = tlsfleet("db", "migrate");
    expect(first.out).toMatch(/init/);
    expect(first.code).toBe(0);
    const second = tlsfleet("db", "migrate");
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/No pending migrations/i);
    const status = tlsfleet("db", "status");
    expect(status.code).toBe(0);
  });

  it("runs the app as tlsfleet_app: it signs a checkpoint and verifies the chain", () => {
    const checkpoint = tlsfleet("audit", "checkpoint");
    expect(checkpoint.out).toMatch(/checkpoint 1: event #0/);
    expect(checkpoint.code).toBe(0);
    const verify = tlsfleet("audit", "verify");
    expect(verify.out).toContain("OK: 0 events verified up to #0 (checkpoint 1");
    expect(verify.code).toBe(0);
  });
});
