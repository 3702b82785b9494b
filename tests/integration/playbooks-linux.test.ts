// The SSH transport and the Postfix, nginx and Dovecot playbooks against the lab's real hosts
// (tests/lab/README.md): each playbook goes check -> plan -> apply -> proof on the wire with the
// project's prober -> rollback -> proof again. Every change is rolled back in `finally`, and an
// afterAll safety net puts back any config file that still differs (byte for byte) from what the
// file found, so other tests keep seeing the lab's documented verdicts. Run serially.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDovecot, dovecotPlaybook } from "../../agents/playbooks/dovecot";
import { nginxPlaybook } from "../../agents/playbooks/nginx";
import { applyPostfix, checkPostfix, postfixPlaybook, rollbackPostfix, type PostfixState } from "../../agents/playbooks/postfix";
import { PlaybookError, type Applied, type Change, type ConfigState, type Playbook } from "../../agents/playbooks/types";
import { openSshSession, SshHostKeyMismatchError, type SshOptions, type SshSession } from "../../agents/transport/ssh";
import { quotePosix } from "../../agents/transport/quote";
import { AuthError, HostKeyMismatchError, RemoteOutputLimitError, RemoteTimeoutError, TransportError, type ExecOptions, type ExecResult, type RemoteSession } from "../../agents/transport/types";
import { probeEndpoint } from "../../lib/tls";
import type { ProbeReport, Service, TlsVersion } from "../../lib/tls/types";
import { ensureLabUp, type LabHost } from "../lab/fleet";

const fleet = ensureLabUp();
const TEST_TIMEOUT = 240_000;
const timings: Array<[string, number]> = [];

function labHost(name: string): LabHost {
  const h = fleet.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`lab host ${name} is not in the manifest`);
  return h;
}

function sessionOptions(h: LabHost, extra: Partial<SshOptions> = {}): SshOptions {
  return {
    host: h.address,
    hostLabel: h.name,
    credential: { kind: "ssh-key", username: h.ssh.user, privateKey: fs.readFileSync(h.ssh.keyPath) },
    pinnedFingerprint: h.ssh.hostKeyFingerprint,
    ...extra,
  };
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push([label, Math.round(performance.now() - t0)]);
  }
}

async function withSession<T>(name: string, fn: (s: SshSession) => Promise<T>, extra: Partial<SshOptions> = {}): Promise<T> {
  const s = await openSshSession(sessionOptions(labHost(name), extra));
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Probes until `done` holds or the deadline passes: a reload lets the processes that were
 *  already running finish, so the first connection after it may still see the old settings. */
async function probeUntil(address: string, port: number, service: Service, done: (r: ProbeReport) => boolean, label: string): Promise<ProbeReport> {
  const deadline = Date.now() + 30_000;
  let report = await probeEndpoint({ host: address, port, service }, { timeoutMs: 8_000 });
  while (!done(report) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    report = await probeEndpoint({ host: address, port, service }, { timeoutMs: 8_000 });
  }
  timings.push([`wire ${label}`, report.durationMs]);
  return report;
}

const outcome = (r: ProbeReport, v: TlsVersion) => `${v} ${r.protocols[v]}${r.reasons[v] ? ` (${r.reasons[v]})` : ""}`;

/** Probes until every one of `versions` is accepted, and checks each one is. */
async function expectAccepted(address: string, port: number, service: Service, versions: readonly TlsVersion[], label: string): Promise<void> {
  const r = await probeUntil(address, port, service, (x) => versions.every((v) => x.protocols[v] === "accepted"), label);
  for (const v of versions) expect(outcome(r, v)).toBe(`${v} accepted`);
}

// ---------------------------------------------------------------------------------------------
// Safety net: the config files of every host this file changes, byte for byte.

const TOUCHED: Record<string, { files: string[]; reload: string[] }> = {};
const saved = new Map<string, Buffer>();
const backupsBefore = new Set<string>();

function configFilesOf(h: LabHost): { files: string[]; reload: string[] } {
  if (h.config.postfix) return { files: [h.config.postfix.mainCf, h.config.postfix.masterCf], reload: ["postfix", "reload"] };
  if (h.config.nginx) {
    const dir = path.dirname(h.config.nginx.configFile);
    const files = [h.config.nginx.configFile, ...fs.readdirSync(path.join(dir, "conf.d")).filter((f) => !f.endsWith(".tlsfleet-bak")).map((f) => path.join(dir, "conf.d", f))];
    return { files, reload: ["nginx", "-s", "reload"] };
  }
  if (h.config.dovecot) return { files: [h.config.dovecot.configFile], reload: ["doveadm", "reload"] };
  throw new Error(`${h.name} has no config this test changes`);
}

beforeAll(() => {
  for (const name of ["mx-legacy", "mx-submission", "web-legacy", "imap-legacy"]) {
    TOUCHED[name] = configFilesOf(labHost(name));
    for (const f of TOUCHED[name]!.files) {
      saved.set(f, fs.readFileSync(f));
      if (fs.existsSync(`${f}.tlsfleet-bak`)) backupsBefore.add(`${f}.tlsfleet-bak`);
    }
  }
});

afterAll(() => {
  const restored: string[] = [];
  for (const [name, t] of Object.entries(TOUCHED)) {
    let changed = false;
    for (const f of t.files) {
      if (!fs.readFileSync(f).equals(saved.get(f)!)) {
        fs.writeFileSync(f, saved.get(f)!);
        changed = true;
        restored.push(f);
      }
      const bak = `${f}.tlsfleet-bak`;
      if (fs.existsSync(bak) && !backupsBefore.has(bak)) fs.rmSync(bak);
    }
    if (changed) execFileSync("ssh", ["-F", fleet.ssh.configPath, name, ...t.reload], { stdio: "ignore", timeout: 60_000 });
  }
  console.info(`playbooks-linux timings (ms):\n${timings.map(([l, ms]) => `  ${l}: ${ms}`).join("\n")}`);
  // Every playbook test rolls back itself; a file the net had to restore is a bug in a rollback.
  expect(restored, "config files the safety net had to restore").toEqual([]);
});

// ---------------------------------------------------------------------------------------------

describe("SSH transport against the lab's OpenSSH", () => {
  it(
    "reports the presented host key of an unpinned host, equal to the manifest's, for an admin to confirm",
    async () => {
      const h = labHost("mx-modern");
      const s = await timed("connect (unpinned)", () => openSshSession(sessionOptions(h, { pinnedFingerprint: null })));
      try {
        expect(s.hostKeyPinned).toBe(false);
        expect(s.hostKeyFingerprint).toBe(h.ssh.hostKeyFingerprint);
        expect(s.hostKeyType).toBe("ssh-ed25519");
      } finally {
        await s.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    "connects with the right pin and runs a command",
    async () => {
      await withSession("mx-modern", async (s) => {
        expect(s.hostKeyPinned).toBe(true);
        const r = await timed("exec printf", () => s.exec(["printf", "%s", "pinned"]));
        expect(r).toMatchObject({ exitCode: 0, stdout: "pinned", stderr: "", truncated: false });
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "refuses a host whose key differs from the pin before authenticating, with a message for the operator",
    async () => {
      const h = labHost("mx-modern");
      const log = path.join(h.logsDir, "sshd.log");
      // A user name nobody else uses: sshd logs "Invalid user NAME" as soon as a client asks to
      // authenticate as it, so its absence from the log proves no authentication was attempted.
      const user = `tlsf-pin-${randomBytes(4).toString("hex")}`;
      const wrongPin = "SHA256:" + Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "");
      const opts = sessionOptions(h, { pinnedFingerprint: wrongPin, pinnedAt: new Date("2026-11-02T09:00:00Z"), credential: { kind: "ssh-password", username: user, password: "not-a-real-secret" } });
      const err = await openSshSession(opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostKeyMismatchError);
      expect(err).toBeInstanceOf(SshHostKeyMismatchError);
      const e = err as SshHostKeyMismatchError;
      expect(e.code).toBe("host-key-mismatch");
      expect(e.authenticationAttempted).toBe(false);
      expect(e.actual).toBe(h.ssh.hostKeyFingerprint);
      expect(e.message).toBe(
        `SSH host key for mx-modern changed since it was pinned on 2026-11-02: expected ${wrongPin}, got ${h.ssh.hostKeyFingerprint}. Nothing was sent. If the change is expected, confirm the new key on the host's page (Pinned host key).`,
      );
      expect(e.message).not.toContain("not-a-real-secret");

      // Control: with the right pin the same credential does reach authentication (and fails).
      const control = await openSshSession({ ...opts, pinnedFingerprint: h.ssh.hostKeyFingerprint }).catch((x: unknown) => x);
      expect(control).toBeInstanceOf(AuthError);
      const deadline = Date.now() + 5_000;
      while (!fs.readFileSync(log, "utf8").includes(`Invalid user ${user}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const lines = fs.readFileSync(log, "utf8").split("\n").filter((l) => l.includes(user));
      // Exactly the control connection's attempts; the refused one left no trace of the user.
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => /Invalid user|invalid user|Connection closed by invalid user|Disconnected from invalid user/.test(l))).toBe(true);
      const sessionsAsking = new Set(lines.map((l) => /port (\d+)/.exec(l)?.[1]).filter(Boolean));
      expect(sessionsAsking.size).toBe(1);
    },
    TEST_TIMEOUT,
  );

  it(
    "passes shell metacharacters in an argv element to the program as data",
    async () => {
      const marker = `/tmp/tlsfleet-pwned-${randomBytes(6).toString("hex")}`;
      const hostile = `x; rm -rf / $(touch ${marker}) \`touch ${marker}\` & del ${marker} | cat > ${marker} 'single' "double" $HOME * ~ \\ %PATH% !x\nnext line`;
      await withSession("mx-modern", async (s) => {
        const r = await s.exec(["printf", "%s", hostile]);
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe(hostile);
        const argc = await s.exec(["sh", "-c", 'printf "%s\\n" "$#"', "sh", hostile, "", "two words"]);
        expect(argc.stdout).toBe("3\n");
      });
      expect(fs.existsSync(marker)).toBe(false);
    },
    TEST_TIMEOUT,
  );

  it(
    "stops a command whose output exceeds the cap, keeps memory bounded, and can truncate instead",
    async () => {
      await withSession("mx-modern", async (s) => {
        const rss0 = process.memoryUsage().rss;
        const t0 = performance.now();
        // Sizes unique to this run, so the leftover check cannot see anyone else's head.
        const size = String(50_000_000 + Math.floor(Math.random() * 100_000));
        const err = await s.exec(["head", "-c", size, "/dev/zero"]).catch((e: unknown) => e);
        timings.push(["50 MB output, default 4 MiB cap (error)", Math.round(performance.now() - t0)]);
        expect(err).toBeInstanceOf(RemoteOutputLimitError);
        expect((err as RemoteOutputLimitError).limitBytes).toBe(4 * 1024 * 1024);
        const r = await timed("50 MB output, 1 MB cap (truncate)", () => s.exec(["head", "-c", size, "/dev/zero"], { maxOutputBytes: 1_000_000, onOutputLimit: "truncate" }));
        expect(r).toMatchObject({ truncated: true, exitCode: null });
        expect(Buffer.byteLength(r.stdout)).toBe(1_000_000);
        expect(process.memoryUsage().rss - rss0).toBeLessThan(96 * 1024 * 1024);
        // The session is still usable, and nothing is left running on the host.
        // Anchored, so the pattern cannot match a shell whose command line merely contains it.
        const left = await s.exec(["pgrep", "-f", `^head -c ${size} `]);
        expect(left.stdout).toBe("");
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "returns binary output without choking, and decodes UTF-8 split across SSH packets intact",
    async () => {
      await withSession("mx-modern", async (s) => {
        const bin = await s.exec(["printf", "\\377\\000\\200abc"]);
        expect(bin.exitCode).toBe(0);
        expect(bin.stdout).toBe("\uFFFD\u0000\uFFFDabc");
        const text = await s.exec(["sh", "-c", "yes é | head -n 100000"]);
        expect(text.stdout.length).toBe(200_000);
        expect(text.stdout.includes("\uFFFD")).toBe(false);
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "times out a command that never ends and kills it on the host",
    async () => {
      const duration = `1000.${Math.floor(Math.random() * 9000 + 1000)}`;
      await withSession("mx-modern", async (s) => {
        const t0 = performance.now();
        const err = await s.exec(["sleep", duration], { timeoutMs: 2_000 }).catch((e: unknown) => e);
        const took = Math.round(performance.now() - t0);
        timings.push(["sleep 1000 with a 2 s timeout", took]);
        expect(err).toBeInstanceOf(RemoteTimeoutError);
        expect((err as Error).message).toMatch(/did not finish within 2 s; it was stopped/);
        expect(took).toBeLessThan(10_000);
        const left = await s.exec(["pgrep", "-f", `^sleep ${duration}$`]);
        expect(left.stdout).toBe("");
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "runs concurrent commands on one session one at a time",
    async () => {
      await withSession("mx-modern", async (s) => {
        const script = "date +%s%N; sleep 0.3; date +%s%N";
        const runs = await Promise.all([1, 2, 3].map(() => s.exec(["sh", "-c", script])));
        const spans = runs.map((r) => r.stdout.trim().split("\n").map(BigInt) as [bigint, bigint]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        for (let i = 1; i < spans.length; i++) expect(spans[i]![0] >= spans[i - 1]![1]).toBe(true);
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "reports a dropped connection mid-command as a TransportError and refuses further commands",
    async () => {
      const duration = `30.${Math.floor(Math.random() * 9000 + 1000)}`;
      await withSession("mx-modern", async (s) => {
        const sshd = await sshdProcessOf(s);
        const running = s.exec(["sleep", duration], { timeoutMs: 60_000 });
        await new Promise((r) => setTimeout(r, 1_000));
        process.kill(sshd, "SIGKILL");
        const err = await running.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransportError);
        expect((err as TransportError).code).toBe("connect");
        expect((err as Error).message).toMatch(/was lost while the command "sleep" was running; it may or may not have completed/);
        const next = await s.exec(["true"]).catch((e: unknown) => e);
        expect(next).toBeInstanceOf(TransportError);
      });
      // The orphaned sleep belongs to this test: find it by its unique command line, end it by PID.
      await withSession("mx-modern", async (s) => {
        const pids = (await s.exec(["pgrep", "-f", `^sleep ${duration}$`])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
        for (const pid of pids) await s.exec(["kill", pid]);
      });
    },
    TEST_TIMEOUT,
  );
});

/** The PID of the sshd process serving this session (the parent of our command's shell); this
 *  machine shares the lab's PID namespace, so the test can kill it to drop the connection. */
async function sshdProcessOf(s: RemoteSession): Promise<number> {
  const r = await s.exec(["sh", "-c", 'p=$(ps -o ppid= -p $$); echo $p; ps -o comm= -p $p']);
  const [pid, comm] = r.stdout.trim().split(/\s+/);
  expect(comm).toBe("sshd");
  return Number(pid);
}

// ---------------------------------------------------------------------------------------------

interface WireCase {
  port: number;
  service: Service;
  /** Outcomes that count as "not negotiated" for legacy versions after the fix. Dovecot 2.3
   *  closes without an alert (README), which the prober reports as unknown ("closed"). */
  refused: ReadonlyArray<ProbeReport["protocols"][TlsVersion]>;
}

/** check -> plan -> apply -> wire -> re-apply (no-op) -> rollback -> wire, rolled back whatever
 *  happens. Returns the plan for the test's own assertions. */
async function roundTrip<S extends ConfigState>(hostName: string, playbook: Playbook<S>, wire: WireCase[], legacy: TlsVersion[], assertPlan: (state: S, plan: Change[]) => void) {
  const h = labHost(hostName);
  await withSession(hostName, async (s) => {
    const state = await timed(`${playbook.id} check ${hostName}`, () => playbook.check(s));
    expect(state.legacyEnabled).toBe(true);
    const plan = playbook.plan(state, "disable-legacy");
    assertPlan(state, plan);
    for (const w of wire) {
      await expectAccepted(h.address, w.port, w.service, legacy, `${hostName}:${w.port} before`);
    }
    let applied: Applied | null = null;
    try {
      applied = await timed(`${playbook.id} apply ${hostName}`, () => playbook.apply(s, plan));
      expect(applied.changes).toHaveLength(plan.length);
      expect(applied.before).toMatchObject({ playbookId: playbook.id, legacyEnabled: true });
      expect(applied.after).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
      for (const w of wire) {
        const r = await probeUntil(h.address, w.port, w.service, (x) => legacy.every((v) => w.refused.includes(x.protocols[v])) && x.protocols["TLSv1.2"] === "accepted", `${hostName}:${w.port} after apply`);
        for (const v of legacy) expect(w.refused, outcome(r, v)).toContain(r.protocols[v]);
        expect(outcome(r, "TLSv1.2")).toBe("TLSv1.2 accepted");
      }
      const again = await timed(`${playbook.id} re-apply (no-op) ${hostName}`, () => playbook.apply(s, plan));
      expect(again.changes).toEqual([]);
    } finally {
      const before = applied?.before ?? state;
      const rb = await timed(`${playbook.id} rollback ${hostName}`, () => playbook.rollback(s, before));
      expect(rb.after.legacyEnabled).toBe(true);
      expect(rb.after.summary).toBe(state.summary);
    }
    for (const w of wire) {
      await expectAccepted(h.address, w.port, w.service, legacy, `${hostName}:${w.port} after rollback`);
    }
  });
}

describe("Postfix playbook on the lab", () => {
  it(
    "mx-legacy: >=TLSv1.2 on the four parameters rejects TLS 1.0/1.1 on 25; rollback accepts TLS 1.0 again",
    async () => {
      await roundTrip("mx-legacy", postfixPlaybook, [{ port: 25, service: "smtp", refused: ["rejected"] }], ["TLSv1", "TLSv1.1"], (state, plan) => {
        expect(state.summary).toMatch(/^TLS 1\.0\/1\.1 enabled by main\.cf: smtpd_tls_protocols = >=TLSv1/);
        expect(plan.map((c) => [c.value, c.from, c.to])).toEqual([
          ["smtpd_tls_protocols", ">=TLSv1", ">=TLSv1.2"],
          ["smtpd_tls_mandatory_protocols", ">=TLSv1", ">=TLSv1.2"],
          ["smtp_tls_protocols", ">=TLSv1", ">=TLSv1.2"],
          ["smtp_tls_mandatory_protocols", ">=TLSv1", ">=TLSv1.2"],
        ]);
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "mx-submission: the plan fixes the master.cf override, so 587 stops accepting TLS 1.1; rollback restores it",
    async () => {
      const masterCf = labHost("mx-submission").config.postfix!.masterCf;
      const original = fs.readFileSync(masterCf);
      await roundTrip("mx-submission", postfixPlaybook, [{ port: 587, service: "submission", refused: ["rejected"] }], ["TLSv1.1"], (_state, plan) => {
        expect(plan.map((c) => [c.path.replace(/.*\//, ""), c.value, c.from, c.to])).toEqual([
          ["master.cf", "submission/inet/smtpd_tls_mandatory_protocols", ">=TLSv1.1", ">=TLSv1.2"],
          ["master.cf", "submission/inet/smtpd_tls_protocols", ">=TLSv1.1", ">=TLSv1.2"],
        ]);
      });
      await withSession("mx-submission", async (s) => {
        const r = await s.exec(["postconf", "-P", "submission/inet/smtpd_tls_protocols"]);
        expect(r.stdout).toBe("submission/inet/smtpd_tls_protocols = >=TLSv1.1\n");
      });
      // postconf -P -e re-indents the entry; rollback puts the exact bytes back.
      expect(fs.readFileSync(masterCf).equals(original)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    "an apply cut off by a dropped connection leaves a recorded before-state that rollback restores",
    async () => {
      const h = labHost("mx-legacy");
      const s = await openSshSession(sessionOptions(h));
      const sshd = await sshdProcessOf(s);
      const sent: string[][] = [];
      let recorded: ConfigState | null = null;
      let writesWhenRecorded = -1;
      // The writes go to the host as one remote shell (runBatch): `step postconf -e NAME=VALUE`.
      const isWrite = (argv: readonly string[]) => argv[0] === "sh" && / postconf -e /.test(argv[2] ?? "");
      // The real session, with the connection lost midway through the shell that writes: the
      // first of its writes has landed (run here on its own), then the sshd process is SIGKILLed
      // and the shell is sent to a connection that is gone.
      const cutting: RemoteSession = {
        hostLabel: s.hostLabel,
        kind: s.kind,
        remoteOs: s.remoteOs,
        close: () => s.close(),
        exec: async (argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> => {
          if (isWrite(argv) && sent.filter(isWrite).length === 0) {
            const first = / postconf -e '?(smtpd_tls_protocols=[^'\n]*)'?/.exec(argv[2]!)![1]!;
            expect((await s.exec(["postconf", "-e", first])).exitCode).toBe(0);
            process.kill(sshd, "SIGKILL");
            await new Promise((r) => setTimeout(r, 300));
          }
          sent.push([...argv]);
          return s.exec(argv, opts);
        },
      };
      let err: unknown = null;
      try {
        const state = await checkPostfix(s);
        const plan = postfixPlaybook.plan(state, "disable-legacy");
        err = await applyPostfix(cutting, plan, {
          onBefore: (before) => {
            recorded = before;
            writesWhenRecorded = sent.filter(isWrite).length;
          },
        }).catch((e: unknown) => e);
      } finally {
        await s.close();
      }
      try {
        expect(writesWhenRecorded).toBe(0);
        expect(recorded).not.toBeNull();
        expect(err).toBeInstanceOf(PlaybookError);
        const pe = err as PlaybookError;
        expect(pe.before).toBe(recorded);
        expect(pe.message).toMatch(/SSH (connection|session) to mx-legacy (was lost|is no longer connected)/);
        expect(pe.message).toMatch(/roll back from the before-snapshot/);
        expect(pe.written.map((c) => c.value)).toContain("smtpd_tls_protocols");
        // The first write did land: the host is half changed until rollback.
        await withSession("mx-legacy", async (fresh) => {
          const half = await checkPostfix(fresh);
          expect(half.parameters.smtpd_tls_protocols.explicit).toBe(">=TLSv1.2");
        });
      } finally {
        await withSession("mx-legacy", async (fresh) => {
          const target = recorded ?? (await checkPostfix(fresh));
          const rb = await timed("postfix rollback after a dropped connection", () => rollbackPostfix(fresh, target));
          expect((rb.after as PostfixState).parameters.smtpd_tls_protocols.explicit).toBe(">=TLSv1");
          expect(rb.after.summary).toBe(recorded!.summary);
        });
      }
      await expectAccepted(h.address, 25, "smtp", ["TLSv1"], "mx-legacy:25 after recovery");
    },
    TEST_TIMEOUT,
  );
});

describe("config verdicts as the lab's hosts behave: a direction per finding, the OpenSSL level", () => {
  const side = (state: ConfigState, d: "inbound" | "outbound") => state.sides.find((x) => x.direction === d);

  it(
    "mx-legacy: smtpd_* inbound and smtp_* outbound both enable TLS 1.0/1.1 (its cipher list lowers OpenSSL to @SECLEVEL=0); OpenSSL and the client level are read",
    async () => {
      const state = await withSession("mx-legacy", (s) => timed("postfix check mx-legacy", () => checkPostfix(s)));
      expect(side(state, "inbound")).toMatchObject({ legacyEnabled: true, tls12Enabled: true });
      expect(side(state, "outbound")).toMatchObject({ legacyEnabled: true, tls12Enabled: true, summary: expect.stringContaining("main.cf: smtp_tls_protocols = >=TLSv1") });
      expect(state.openssl?.version).toMatch(/^3\./);
      expect(state.smtpTlsSecurityLevel).toBe("may");
      expect(state.postscreenServices).toEqual([]);
      expect(state.settings.every((x) => x.library === undefined)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  // OpenSSL 3 refusing a version for the security level answers with an internal_error alert, not
  // protocol_version (measured): the prober reports that as unknown (internal_error), never as
  // accepted. Either way the version is not negotiated.
  const REFUSED_BY_LEVEL = /^TLSv1(\.1)? (rejected|unknown \(internal_error\))/;

  /** Probes until none of `versions` is accepted, then checks each was refused for the level and TLS 1.2 still is accepted. */
  async function expectRefusedByLevel(address: string, port: number, service: Service, versions: readonly TlsVersion[], label: string): Promise<void> {
    const r = await probeUntil(address, port, service, (x) => versions.every((v) => x.protocols[v] !== "accepted"), label);
    for (const v of versions) expect(outcome(r, v)).toMatch(REFUSED_BY_LEVEL);
    expect(outcome(r, "TLSv1.2")).toBe("TLSv1.2 accepted");
  }

  /** Writes a file on a lab host for the duration of `fn`, then puts its exact bytes back and reloads. */
  async function withEditedFile(host: string, file: string, edit: (text: string) => string, reload: string[], fn: (s: SshSession) => Promise<void>) {
    const original = fs.readFileSync(file);
    await withSession(host, async (s) => {
      try {
        fs.writeFileSync(file, edit(original.toString("latin1")), "latin1");
        const r = await s.exec(reload);
        expect(r.exitCode, r.stderr).toBe(0);
        await fn(s);
      } finally {
        fs.writeFileSync(file, original);
        expect((await s.exec(reload)).exitCode).toBe(0);
      }
    });
  }

  it(
    "mx-legacy: Postfix's stock cipher list keeps TLS 1.0 (Postfix sets level 0 itself), @SECLEVEL=1 in it refuses TLS 1.0: the check and the wire agree both times",
    async () => {
      const h = labHost("mx-legacy");
      const mainCf = h.config.postfix!.mainCf;
      const cipherLine = /^tls_medium_cipherlist = .*$/m;
      await withEditedFile("mx-legacy", mainCf, (t) => t.replace(cipherLine, ""), ["postfix", "reload"], async (s) => {
        const state = await timed("postfix check mx-legacy (stock ciphers)", () => checkPostfix(s));
        expect(side(state, "inbound")).toMatchObject({ legacyEnabled: true });
        await expectAccepted(h.address, 25, "smtp", ["TLSv1"], "mx-legacy:25 stock ciphers");
      });
      await withEditedFile("mx-legacy", mainCf, (t) => t.replace(cipherLine, "tls_medium_cipherlist = aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:@SECLEVEL=1"), ["postfix", "reload"], async (s) => {
        const state = await timed("postfix check mx-legacy (@SECLEVEL=1)", () => checkPostfix(s));
        expect(state.parameters.smtpd_tls_protocols.enabled).toEqual(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);
        expect(side(state, "inbound")).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
        expect(side(state, "outbound")).toMatchObject({ legacyEnabled: false });
        expect(state.settings.find((x) => x.setting === "smtpd_tls_protocols")!.library).toMatch(/^OpenSSL 3\.\d+\.\d+ refuses TLS 1\.0\/1\.1 at security level 1 \(its cipher list\)/);
        // The plan still makes the config say what the host does.
        expect(postfixPlaybook.plan(state, "disable-legacy").map((c) => c.value)).toContain("smtpd_tls_protocols");
        await expectRefusedByLevel(h.address, 25, "smtp", ["TLSv1", "TLSv1.1"], "mx-legacy:25 @SECLEVEL=1");
      });
      await expectAccepted(h.address, 25, "smtp", ["TLSv1"], "mx-legacy:25 restored");
    },
    TEST_TIMEOUT,
  );

  it(
    "web-legacy without its @SECLEVEL=0 ssl_ciphers: ssl_protocols TLSv1 still set, the check says OpenSSL refuses TLS 1.0/1.1, and the wire agrees",
    async () => {
      const h = labHost("web-legacy");
      await withEditedFile("web-legacy", h.config.nginx!.tlsFile, (t) => t.replace(/^\s*ssl_ciphers .*$/m, ""), ["nginx", "-s", "reload"], async (s) => {
        const state = await timed("nginx check web-legacy (default ciphers)", () => nginxPlaybook.check(s));
        expect(state.settings[0]).toMatchObject({ value: "TLSv1 TLSv1.1 TLSv1.2", enabled: ["TLSv1.2"], library: expect.stringMatching(/^OpenSSL 3\.\d+\.\d+ refuses TLS 1\.0\/1\.1 at security level 1\+ \(the library default\)/) });
        expect(state.sides).toEqual([expect.objectContaining({ direction: "inbound", legacyEnabled: false, tls12Enabled: true })]);
        await expectRefusedByLevel(h.address, 443, "https", ["TLSv1"], "web-legacy:443 default ciphers");
      });
      await expectAccepted(h.address, 443, "https", ["TLSv1"], "web-legacy:443 restored");
    },
    TEST_TIMEOUT,
  );

  it(
    "nginx and Dovecot are inbound only: web-legacy and imap-legacy (@SECLEVEL=0) enable TLS 1.0/1.1, web-modern does not",
    async () => {
      const web = await withSession("web-legacy", (s) => nginxPlaybook.check(s));
      expect(web.sides).toEqual([expect.objectContaining({ direction: "inbound", legacyEnabled: true })]);
      const modern = await withSession("web-modern", (s) => nginxPlaybook.check(s));
      expect(modern.sides).toEqual([expect.objectContaining({ direction: "inbound", legacyEnabled: false, tls12Enabled: true })]);
      const imap = await withSession("imap-legacy", (s) => checkDovecot(s));
      expect(imap.sides).toEqual([expect.objectContaining({ direction: "inbound", legacyEnabled: true })]);
      expect(imap.openssl?.version).toMatch(/^3\./);
    },
    TEST_TIMEOUT,
  );
});

describe("nginx playbook on the lab", () => {
  it(
    "web-legacy: ssl_protocols TLSv1.2 TLSv1.3 in the site file rejects TLS 1.0/1.1 on 443; rollback restores the file byte for byte",
    async () => {
      const h = labHost("web-legacy");
      const original = fs.readFileSync(h.config.nginx!.tlsFile);
      await roundTrip("web-legacy", nginxPlaybook, [{ port: 443, service: "https", refused: ["rejected"] }], ["TLSv1", "TLSv1.1"], (state, plan) => {
        expect(state.version).toBe("1.22.1");
        expect(plan.map((c) => [c.path, c.value, c.from, c.to])).toEqual([[h.config.nginx!.tlsFile, "ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2 TLSv1.3"]]);
      });
      expect(fs.readFileSync(h.config.nginx!.tlsFile).equals(original)).toBe(true);
      expect(fs.readFileSync(`${h.config.nginx!.tlsFile}.tlsfleet-bak`).equals(original)).toBe(true);
    },
    TEST_TIMEOUT,
  );
});

describe("Dovecot playbook on the lab", () => {
  it(
    "imap-legacy: ssl_min_protocol = TLSv1.2 stops TLS 1.0/1.1 on 993 and 143; rollback removes tlsfleet's block",
    async () => {
      const h = labHost("imap-legacy");
      const original = fs.readFileSync(h.config.dovecot!.configFile);
      const refused = ["rejected", "unknown"] as const;
      await roundTrip(
        "imap-legacy",
        dovecotPlaybook,
        [
          { port: 993, service: "imaps", refused },
          { port: 143, service: "imap", refused },
        ],
        ["TLSv1", "TLSv1.1"],
        (state, plan) => {
          expect(state.global).toMatchObject({ value: "TLSv1", explicit: true });
          expect(plan.map((c) => [c.value, c.from, c.to])).toEqual([["ssl_min_protocol", "TLSv1", "TLSv1.2"]]);
        },
      );
      expect(fs.readFileSync(h.config.dovecot!.configFile).equals(original)).toBe(true);
      await withSession("imap-legacy", async (s) => expect((await checkDovecot(s)).managed).toBeNull());
    },
    TEST_TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------

/** The real session, except that the first run of `failArgv` is not run and answers exit code 1
 *  with "injected failure": a step failing on the host (a refused reload), to prove the restore
 *  path. Sent alone, the command is answered here; inside a remote shell of several steps
 *  (runBatch's `step ARGV` lines), that step is replaced by one that fails on the host. */
function failingOnce(s: RemoteSession, failArgv: string[]): RemoteSession {
  let fired = false;
  const stepLine = `\nstep ${quotePosix(failArgv)} `;
  return {
    hostLabel: s.hostLabel,
    kind: s.kind,
    remoteOs: s.remoteOs,
    close: () => s.close(),
    exec: async (argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> => {
      if (!fired && argv.join(" ") === failArgv.join(" ")) {
        fired = true;
        return { exitCode: 1, stdout: "", stderr: "injected failure", truncated: false, durationMs: 0 };
      }
      if (!fired && argv[0] === "sh" && argv[1] === "-c" && argv[2]?.includes(stepLine)) {
        fired = true;
        const failing = `\nstep ${quotePosix(["sh", "-c", "echo injected failure >&2; exit 1"])} `;
        return s.exec([argv[0], argv[1], argv[2].replace(stepLine, failing), ...argv.slice(3)], opts);
      }
      return s.exec(argv, opts);
    },
  };
}

describe("a failing step puts the host back as it was", () => {
  const cases: Array<[string, string, Playbook<ConfigState>, string[], RegExp, () => string[]]> = [
    ["Postfix: postfix reload fails", "mx-legacy", postfixPlaybook, ["postfix", "reload"], /The previous values were restored and Postfix reloaded\./, () => [labHost("mx-legacy").config.postfix!.mainCf]],
    ["nginx: nginx -s reload fails", "web-legacy", nginxPlaybook, ["nginx", "-s", "reload"], /The original file was put back and nginx reloaded\./, () => [labHost("web-legacy").config.nginx!.tlsFile]],
    ["Dovecot: doveadm reload fails", "imap-legacy", dovecotPlaybook, ["doveadm", "reload"], /was put back and Dovecot reloaded\./, () => [labHost("imap-legacy").config.dovecot!.configFile]],
  ];
  it.each(cases)(
    "%s",
    async (_name, hostName, playbook, failArgv, message, files) => {
      const originals = files().map((f) => [f, fs.readFileSync(f)] as const);
      await withSession(hostName, async (s) => {
        const state = await playbook.check(s);
        const plan = playbook.plan(state, "disable-legacy");
        expect(plan.length).toBeGreaterThan(0);
        const err = await playbook.apply(failingOnce(s, failArgv), plan).catch((e: unknown) => e);
        try {
          expect(err).toBeInstanceOf(PlaybookError);
          expect((err as Error).message).toMatch(/injected failure/);
          expect((err as Error).message).toMatch(message);
          expect((err as PlaybookError).written).toEqual([]);
          for (const [f, bytes] of originals) expect(fs.readFileSync(f).equals(bytes), `${f} is back byte for byte`).toBe(true);
          const again = await playbook.check(s);
          expect(again.summary).toBe(state.summary);
        } finally {
          // Only if the restore itself failed would there be anything to undo.
          if (!(err instanceof PlaybookError) || err.written.length > 0) await playbook.rollback(s, state);
        }
      });
    },
    TEST_TIMEOUT,
  );

  it(
    "refuses changes outside what a playbook manages, before writing anything",
    async () => {
      await withSession("mx-legacy", async (s) => {
        const err = await postfixPlaybook
          .apply(s, [{ path: "/etc/postfix/main.cf", value: "mynetworks", from: null, to: "0.0.0.0/0", reason: "not ours" }])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PlaybookError);
        expect((err as Error).message).toMatch(/Refusing a Postfix change/);
      });
      await withSession("web-legacy", async (s) => {
        const err = await nginxPlaybook
          .apply(s, [{ path: "/etc/passwd", value: "ssl_protocols", action: "insert", line: 1, context: "http", from: null, to: "TLSv1.2", reason: "not ours" } as Change])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PlaybookError);
        expect((err as Error).message).toMatch(/Refusing to edit \/etc\/passwd/);
      });
    },
    TEST_TIMEOUT,
  );
});

describe("SSH connect timeout", () => {
  it(
    "gives up on a port that accepts TCP but never speaks SSH (peer-never-greets)",
    async () => {
      const peer = labHost("peer-never-greets");
      const t0 = performance.now();
      const err = await openSshSession({ ...sessionOptions(peer), port: peer.endpoints[0]!.port, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
      const took = Math.round(performance.now() - t0);
      timings.push(["connect timeout (2 s) against a silent port", took]);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe("timeout");
      expect((err as Error).message).toMatch(/No SSH connection to peer-never-greets within 2 s/);
      expect(took).toBeLessThan(8_000);
    },
    TEST_TIMEOUT,
  );
});
