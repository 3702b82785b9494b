// `tlsfleet start` (also `npm start`): database, migrations, first admin, build if needed, then
// the web app and the worker as two child processes. Ctrl-C stops both, then the embedded db.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { env, reloadEnv } from "../../lib/env";
import { loadOrCreateRuntimeSecrets } from "../../lib/runtime-secrets";
import { ensureCredentialKeyPair, processEnvironments } from "../../lib/credentials/key-files";
import { plainHttpWarning } from "../../lib/auth/https";

const listenHosts = (value: string | undefined) => (value ?? "").split(",").map((h) => h.trim()).filter(Boolean);

const ROOT = path.resolve(__dirname, "..", "..");
const NEXT_BIN = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
const WEB_SERVER = path.join(ROOT, "bin", "web-server.js");

/**
 * V8 limits for the web process, which must hold a 50,000-host compliance export at <= 300 MB
 * RSS (docs/evidence.md). V8 sizes the old generation from the machine's memory and, with that
 * much room, lets an export's garbage pile up before a major collection: ten host exports back to
 * back took an idle ~255 MB process past 400 MB. A 192 MB old generation makes it collect sooner.
 * The young generation is the other part: with its default 16 MB semi-spaces a compliance export
 * peaked at 303 MB, with 4 MB ones at 271 MB for ~8% more CPU (4.3 s instead of 4.0 s per export;
 * BENCHMARKS.md "Compliance evidence export").
 */
export const WEB_NODE_ARGS = ["--max-old-space-size=192", "--max-semi-space-size=4"];

interface StartOptions {
  build: "auto" | "always" | "never";
  demo: boolean;
}

function parseArgs(argv: string[]): StartOptions | string {
  const opts: StartOptions = { build: "auto", demo: false };
  for (const a of argv) {
    if (a === "--rebuild") opts.build = "always";
    else if (a === "--no-build") opts.build = "never";
    else if (a === "--demo") opts.demo = true;
    else return `unknown option ${a} (expected --rebuild, --no-build or --demo)`;
  }
  return opts;
}

function runToEnd(args: string[], childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit", env: childEnv });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export async function run(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (typeof opts === "string") {
    console.error(`tlsfleet start: ${opts}`);
    return 2;
  }
  const dataDir = path.resolve(ROOT, env.DATA_DIR);
  const secrets = loadOrCreateRuntimeSecrets(dataDir);
  process.env.NEXTAUTH_SECRET ??= secrets.nextauthSecret;
  // Legacy "v1" credentials only (re-sealed by the worker at its start): the worker alone gets it.
  if (secrets.secretKey) process.env.TLSFLEET_SECRET_KEY ??= secrets.secretKey;
  const keyDir = path.resolve(ROOT, env.TLSFLEET_KEY_DIR);
  const keys = ensureCredentialKeyPair(keyDir);
  console.log(`tlsfleet: credential key ${keys.keyId}${keys.created ? " created" : ""} in ${keyDir} (back it up apart from the database: credentials cannot be opened without it)`);
  if (env.TLSFLEET_CREDENTIAL_PUBLIC_KEY && env.TLSFLEET_CREDENTIAL_PUBLIC_KEY !== keys.publicKey) {
    console.error(`tlsfleet start: TLSFLEET_CREDENTIAL_PUBLIC_KEY is not the public key of ${keyDir}/credentials.key: unset it (start takes it from TLSFLEET_KEY_DIR)`);
    return 2;
  }
  process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = keys.publicKey;
  // next-auth and Next must agree on one host name (Next rewrites 127.0.0.1 to localhost).
  process.env.NEXTAUTH_URL ??= `http://localhost:${env.PORT}`;
  reloadEnv();

  const { ensureDatabase } = await import("../../lib/db/database");
  let db: Awaited<ReturnType<typeof ensureDatabase>>;
  try {
    db = await ensureDatabase();
  } catch (err) {
    if (!(err instanceof Error && (err as { userFacing?: boolean }).userFacing)) throw err;
    console.error(`tlsfleet start: ${err.message}`);
    return 1;
  }
  console.log(db.embedded ? `tlsfleet: embedded PostgreSQL, data in ${path.join(dataDir, "pg")}` : "tlsfleet: using DATABASE_URL");

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`tlsfleet: ${signal}: stopping web and worker…`);
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
    await db.stop();
    console.log("tlsfleet: stopped");
  };

  try {
    const { migrate } = await import("../../lib/db/migrate");
    const applied = await migrate();
    console.log(applied.length ? `tlsfleet: applied migrations: ${applied.join(", ")}` : "tlsfleet: database schema is up to date");

    // The audit checkpoint key, created on first start (outside DATA_DIR; docs/audit.md).
    const { loadOrCreateAuditKeys } = await import("../../lib/audit/keys");
    const keys = loadOrCreateAuditKeys();
    console.log(`tlsfleet: audit checkpoints signed with key ${keys.keyId} (${keys.dir})`);
    const { appendOnlyWarning } = await import("../../lib/audit/verify");
    const roleWarning = await appendOnlyWarning();
    if (roleWarning) console.warn(`tlsfleet: warning: ${roleWarning}`);

    const { ensureInitialAdmin } = await import("../../lib/users/service");
    const admin = await ensureInitialAdmin({ email: env.TLSFLEET_ADMIN_EMAIL, password: env.TLSFLEET_ADMIN_PASSWORD });
    if (admin.created && admin.generatedPassword) {
      console.log(`\n  First start: created admin ${admin.email}\n  One-time password (shown once; change it after signing in, under Settings > Your account): ${admin.generatedPassword}\n`);
    } else if (admin.created) {
      console.log(`tlsfleet: created admin ${admin.email} from TLSFLEET_ADMIN_EMAIL`);
    }

    if (opts.demo) {
      const { seedDemoInventory } = await import("../../lib/inventory/demo");
      const result = await seedDemoInventory();
      console.log(`tlsfleet: demo inventory: ${result.message}`);
    }

    const built = existsSync(path.join(ROOT, ".next", "BUILD_ID"));
    if (opts.build === "always" || (opts.build === "auto" && !built)) {
      console.log("tlsfleet: building the web app (first start only)…");
      const code = await runToEnd([NEXT_BIN, "build"], { ...process.env, NODE_ENV: "production" });
      if (code !== 0) {
        await db.stop();
        return code;
      }
    }
  } catch (err) {
    await db.stop();
    throw err;
  }

  // The owner's connection stays in this process: web and worker connect as the app role only.
  const { MIGRATION_DATABASE_URL: _owner, ...inherited } = process.env;
  // The web process can seal credentials but gets no key that opens them; the worker gets those.
  const envs = processEnvironments({ ...inherited, NODE_ENV: "production" }, keys);
  // bin/web-server.js rather than `next start`: it tells the app each request's TCP peer (the
  // sign-in limits need an address the client cannot choose; lib/auth/client-address.ts).
  const web = spawn(process.execPath, [...WEB_NODE_ARGS, WEB_SERVER], { cwd: ROOT, stdio: "inherit", env: envs.web });
  const worker = spawn(process.execPath, [path.join(ROOT, "bin", "tlsfleet"), "worker"], { cwd: ROOT, stdio: "inherit", env: envs.worker });
  children.push(web, worker);
  console.log(`tlsfleet: web on ${env.NEXTAUTH_URL}, worker started`);
  const warning = plainHttpWarning(env.NEXTAUTH_URL ?? "", listenHosts(env.LISTEN_HOST));
  if (warning) console.warn(`tlsfleet: ${warning}`);

  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => void stopAll(sig).then(() => resolve(0));
    // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and via bin/tlsfleet),
    // and a second default SIGINT must not kill it halfway through stopping the database.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    for (const c of children) {
      c.once("exit", (code) => {
        if (stopping) return;
        console.error(`tlsfleet: ${c === web ? "web" : "worker"} exited with ${code}; stopping`);
        void stopAll("SIGTERM").then(() => resolve(code ?? 1));
      });
    }
  });
}
