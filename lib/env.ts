// The only place that reads process.env. Everything else imports `env` from here.
import { z } from "zod";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  // Unset: an embedded PostgreSQL under .data/ is started by `tlsfleet start`.
  DATABASE_URL: optionalString,
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  DATA_DIR: z.string().default(".data"),
  NEXTAUTH_URL: optionalString,
  // Signing key for session JWTs. Generated and stored under DATA_DIR when unset.
  NEXTAUTH_SECRET: optionalString,
  TLSFLEET_ADMIN_EMAIL: optionalString,
  TLSFLEET_ADMIN_PASSWORD: optionalString,
  // Where `tlsfleet start` keeps the credential key pair (credentials.pub, credentials.key), kept
  // apart from DATA_DIR so a copy of the database directory holds no key. Relative to the
  // repository root; created 0700, files 0600 (docs/security.md "Credential keys").
  TLSFLEET_KEY_DIR: z.string().default(".keys"),
  // The X25519 public key credentials are sealed to (base64url). Unset: TLSFLEET_KEY_DIR/credentials.pub.
  TLSFLEET_CREDENTIAL_PUBLIC_KEY: optionalString,
  // Worker only: comma-separated paths of the PKCS#8 private keys that open sealed credentials
  // (the current one and retired ones). `tlsfleet start` sets it for its worker, never for the web.
  TLSFLEET_CREDENTIAL_PRIVATE_KEYS: optionalString,
  // Legacy (envelopes "v1", before credentials were sealed): the 32-byte symmetric key (base64 or
  // hex) they were encrypted with, and older ones ("keyId:base64,..."). Read by workers only, to
  // open and re-seal those envelopes.
  TLSFLEET_SECRET_KEY: optionalString,
  TLSFLEET_SECRET_KEYS_OLD: optionalString,
  // Comma-separated CIDRs / DNS suffixes that probes and remote sessions may reach.
  TLSFLEET_ALLOWED_TARGETS: optionalString,
  // How many reverse proxies in front of tlsfleet append to X-Forwarded-For (docs/security.md).
  // 0 (default): no proxy, the client is the TCP peer and X-Forwarded-For is ignored.
  TLSFLEET_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  // Address(es) the web server listens on, comma separated; unset: every interface.
  LISTEN_HOST: optionalString,
  // Set by bin/web-server.js for the web process only: proves the peer-address header came from it.
  TLSFLEET_PEER_KEY: optionalString,
  // Password hashing (bcrypt) running at once, and how many more may wait for a turn.
  // Unset: one core less than the machine has, 1 or 2 (lib/auth/passwords.ts).
  TLSFLEET_PASSWORD_WORK_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  TLSFLEET_PASSWORD_WORK_QUEUE: z.coerce.number().int().min(0).max(1000).default(8),
  TLSFLEET_PASSWORD_WORK_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  // Event streams (Server-Sent Events) one user may hold open at once in this web process; the next gets 429.
  TLSFLEET_STREAMS_PER_USER: z.coerce.number().int().min(1).max(1000).default(8),
  // How often an open event stream re-checks its session or API token (ended, revoked, role lowered).
  TLSFLEET_STREAM_RECHECK_MS: z.coerce.number().int().min(50).max(600_000).default(30_000),
  // Owner role's connection for migrations (docs/audit.md "Database roles"); unset: DATABASE_URL.
  // Never passed to the web or worker processes.
  MIGRATION_DATABASE_URL: optionalString,
  // Where the audit checkpoint signing key lives (Ed25519, generated on first start, mode 0600).
  // Outside DATA_DIR on purpose: a copy of the data directory or the database must not carry it.
  TLSFLEET_AUDIT_KEY_DIR: z.string().default(".audit-key"),
  // Optional file every new checkpoint is appended to (one JSON line each), e.g. on other storage.
  TLSFLEET_AUDIT_CHECKPOINT_FILE: optionalString,
  // How often the worker signs a checkpoint of the audit chain.
  TLSFLEET_AUDIT_CHECKPOINT_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  TLSFLEET_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(32),
  // Connections to one server (all its addresses) from all workers together; lib/tls/connection-gate.ts
  // DEFAULT_PER_SERVER (40) when unset. Lower it for servers that allow fewer sessions per client.
  TLSFLEET_PROBE_SERVER_BUDGET: z.coerce.number().int().min(1).max(1000).optional(),
  // Connections each process keeps to PostgreSQL (the pg pool under Prisma). A worker running
  // many host tasks at once needs more than pg's default of 10: every task writes its steps in
  // short transactions (measured: 50 rollout hosts at once on 10 connections starved the pool).
  TLSFLEET_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  // How long a worker's claim on a task holds without renewal (lib/jobs/tasks.ts). Tests shorten it.
  TLSFLEET_LEASE_SECONDS: z.coerce.number().int().min(1).max(600).default(20),
  // The outbound check sink (docs/outbound-check.md): "address:port" a worker listens on, e.g.
  // "198.18.0.1:25". Unset: no sink, and outbound checks fail with a message saying so.
  TLSFLEET_OUTBOUND_SINK_LISTEN: optionalString,
  // The address hosts send to when it differs from the listen address (NAT, 0.0.0.0).
  TLSFLEET_OUTBOUND_SINK_ADDRESS: optionalString,
});

export type Env = z.infer<typeof EnvSchema>;

function loadEnv(): Env {
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`tlsfleet: invalid environment:\n${problems}`);
  }
  return parsed.data;
}

export const env: Env = loadEnv();

/** For the CLI and tests, which set variables after import (e.g. DATABASE_URL of the embedded db). */
export function reloadEnv(): Env {
  const next = loadEnv();
  // A variable that was unset since must not keep its old value (Object.assign skips absent keys).
  for (const key of Object.keys(env) as (keyof Env)[]) if (!(key in next)) delete env[key];
  Object.assign(env, next);
  return env;
}
