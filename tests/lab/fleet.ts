// The lab fleet as tests see it: the manifest written by `npm run lab -- up`
// (tests/lab/.state/fleet.json), parsed with zod so a stale or hand-edited manifest fails loudly.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export const LAB_DIR = path.resolve(__dirname);
export const STATE_DIR = path.join(LAB_DIR, ".state");
export const MANIFEST_PATH = path.join(STATE_DIR, "fleet.json");
export const BENCH_MANIFEST_PATH = path.join(STATE_DIR, "bench.json");
export const ROLLOUT_BENCH_MANIFEST_PATH = path.join(STATE_DIR, "rollout-bench.json");

const Outcome = z.enum(["accepted", "rejected", "unknown"]);
const Verdict = z.enum(["unreachable", "no-tls", "error", "at_risk", "noncompliant", "compliant"]);
const Service = z.enum(["smtp", "submission", "smtps", "https", "imap", "imaps", "pop3", "pop3s", "ldaps", "tls"]);

export const ExpectedProtocols = z.object({
  TLSv1: Outcome,
  "TLSv1.1": Outcome,
  "TLSv1.2": Outcome,
  "TLSv1.3": Outcome,
});

export const LabEndpoint = z.object({
  port: z.number().int().min(1).max(65535),
  service: Service,
  tls: z.enum(["starttls", "implicit"]),
  /** What the prober must report for STARTTLS; null: not asserted. */
  starttls: z.enum(["offered", "not-offered", "not-applicable"]).nullable(),
  expected: ExpectedProtocols,
  expectedVerdict: Verdict,
});

export const LabHost = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1),
  address: z.ipv4(),
  /** More addresses the same servers answer on (one Postfix listening on several). */
  extraAddresses: z.array(z.ipv4()).default([]),
  /** Sessions one client may hold at once over all its addresses; null: the daemons' defaults. */
  clientConnectionLimit: z.number().int().positive().nullable().default(null),
  roles: z.array(z.string()),
  platform: z.literal("linux"),
  kind: z.enum(["server", "peer"]),
  ssh: z.object({
    port: z.literal(22),
    user: z.literal("root"),
    keyPath: z.string(),
    hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/),
    hostKey: z.string().regex(/^ssh-ed25519 \S+$/),
  }),
  /** Wrappers for postconf, postfix, nginx, doveconf, doveadm, dovecot, systemctl; first in PATH over ssh. */
  binDir: z.string(),
  commands: z.array(z.string()),
  config: z.object({
    postfix: z.object({ configDir: z.string(), mainCf: z.string(), masterCf: z.string(), log: z.string() }).optional(),
    nginx: z.object({ configFile: z.string(), tlsFile: z.string(), pidFile: z.string(), log: z.string() }).optional(),
    dovecot: z.object({ configFile: z.string(), baseDir: z.string(), log: z.string() }).optional(),
    /** record: JSON lines of what the peer saw (`--record`, tests/lab/peers/common.ts peerRecorder). */
    peer: z.object({ script: z.string(), pidFile: z.string(), log: z.string(), record: z.string() }).optional(),
  }),
  certificate: z.object({ subject: z.string(), file: z.string() }),
  logsDir: z.string(),
  endpoints: z.array(LabEndpoint).min(1),
});

export const Fleet = z.object({
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  profile: z.literal("normal"),
  stateDir: z.string(),
  runDir: z.string(),
  network: z.object({ bridge: z.string(), rootAddress: z.ipv4(), prefix: z.string() }),
  ssh: z.object({ user: z.literal("root"), keyPath: z.string(), knownHostsPath: z.string(), configPath: z.string() }),
  hosts: z.array(LabHost).min(1),
});

export const BenchLayout = z.object({
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  namespace: z.string(),
  rootAddress: z.ipv4(),
  addresses: z.array(z.ipv4()).min(250),
  // `bench-up --distinct-servers`: every Postfix address greets with a name of its own (manifests
  // from before the option are the one-server layout).
  layout: z.enum(["one-server", "distinct-servers"]).default("one-server"),
  smtpServerNames: z.array(z.string()).optional(),
  expected: ExpectedProtocols,
  expectedVerdict: Verdict,
  config: z.object({ postfix: z.string(), nginx: z.string() }),
  delay: z.object({ perDirectionMs: z.number(), relayPidFile: z.string() }),
  endpoints: z.array(z.object({ address: z.ipv4(), port: z.number().int(), service: Service })).min(500),
  delayedEndpoints: z.array(z.object({ address: z.ipv4(), port: z.number().int(), service: Service, via: z.string() })),
});

/** `npm run lab -- rollout-bench-up`: 50 Postfix hosts shaped like mx-legacy, each with its sshd. */
export const RolloutBenchLayout = Fleet.extend({
  profile: z.literal("rollout-bench"),
  /** shared: root sessions run with this machine's /root (its ~/.bashrc), as on the normal lab; own: HOME=<host>/home. */
  home: z.enum(["shared", "own"]),
  /** main.cf values every host starts from (mx-legacy's): a reset writes them back. */
  legacyParameters: z.record(z.string(), z.string()),
});

export type Fleet = z.infer<typeof Fleet>;
export type LabHost = z.infer<typeof LabHost>;
export type LabEndpoint = z.infer<typeof LabEndpoint>;
export type BenchLayout = z.infer<typeof BenchLayout>;
export type RolloutBenchLayout = z.infer<typeof RolloutBenchLayout>;

/** The lab manifest; throws with the next step to take when the lab was never brought up. */
export function loadFleet(manifestPath = MANIFEST_PATH): Fleet {
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`lab manifest ${manifestPath} not found: the lab is not up. Run \`npm run lab -- up\` (as root).`);
  }
  const parsed = Fleet.safeParse(JSON.parse(fs.readFileSync(manifestPath, "utf8")));
  if (!parsed.success) {
    throw new Error(`lab manifest ${manifestPath} does not match tests/lab/fleet.ts (rebuild with \`npm run lab -- up --force\`): ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export function loadBenchLayout(manifestPath = BENCH_MANIFEST_PATH): BenchLayout {
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`bench manifest ${manifestPath} not found: run \`npm run lab -- bench-up\` (as root).`);
  }
  return BenchLayout.parse(JSON.parse(fs.readFileSync(manifestPath, "utf8")));
}

export function loadRolloutBenchLayout(manifestPath = ROLLOUT_BENCH_MANIFEST_PATH): RolloutBenchLayout {
  if (!fs.existsSync(manifestPath)) {
    throw new Error(`rollout bench manifest ${manifestPath} not found: run \`npm run lab -- rollout-bench-up\` (as root).`);
  }
  return RolloutBenchLayout.parse(JSON.parse(fs.readFileSync(manifestPath, "utf8")));
}

function labStatusOk(): boolean {
  try {
    execFileSync("bash", [path.join(LAB_DIR, "lab.sh"), "status", "--quiet"], { stdio: "ignore", timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The lab, brought up first when it is not (or only partly) running. Output of `lab up` goes to
 * stderr; a failure throws with the lab's own message, never silently skips anything.
 */
export function ensureLabUp(): Fleet {
  if (!labStatusOk()) {
    try {
      execFileSync("bash", [path.join(LAB_DIR, "lab.sh"), "up"], { stdio: ["ignore", "inherit", "inherit"], timeout: 170_000 });
    } catch (err) {
      throw new Error(`could not bring the lab up (\`bash tests/lab/lab.sh up\`, needs root and the Debian packages): ${(err as Error).message}`);
    }
  }
  return loadFleet();
}

/** Every endpoint of the lab with its host, in manifest order. */
export function labEndpoints(fleet: Fleet): Array<{ host: LabHost; endpoint: LabEndpoint }> {
  return fleet.hosts.flatMap((host) => host.endpoints.map((endpoint) => ({ host, endpoint })));
}
