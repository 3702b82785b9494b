// TEST DOUBLE of a Windows Exchange server: WinRM, OpenSSH (cmd.exe), SMTP STARTTLS and a
// registry, for tests that cannot run real Windows. See README.md beside this file.
//
//   node --import tsx tests/lab/windows-double/main.ts --listen 198.18.0.20 --state DIR --profile legacy
//
// Prints one JSON line {"event":"ready",...} on stdout when every listener is up (also written
// to DIR/ready.json), then runs until SIGTERM/SIGINT.

import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ssh2 from "ssh2";
import { z } from "zod";
import { WindowsMachine } from "./machine";
import { loadProfile } from "./profiles";
import { Registry } from "./registry";
import { SmtpServer } from "./smtp-server";
import { SshServer } from "./ssh-server";
import { WinRmServer } from "./winrm-server";

const ArgsSchema = z.object({
  listen: z.string().default("127.0.0.1"),
  state: z.string().min(1),
  profile: z.string().default("legacy"),
  "winrm-https-port": z.coerce.number().int().min(0).max(65535).default(5986),
  "winrm-http-port": z.coerce.number().int().min(0).max(65535).default(5985),
  "ssh-port": z.coerce.number().int().min(0).max(65535).default(22),
  "smtp-port": z.coerce.number().int().min(0).max(65535).default(25),
  user: z.string().default("Administrator"),
  password: z.string().min(1).default("Double-Passw0rd"),
  "reboot-downtime-ms": z.coerce.number().int().min(0).max(60_000).default(1500),
  "authorized-keys": z.string().optional(),
  "cbt-strict": z.boolean().default(false),
  reset: z.boolean().default(false),
});
type Args = z.infer<typeof ArgsSchema>;

function parseArgs(argv: string[]): Args {
  const raw: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (name === "cbt-strict" || name === "reset") raw[name] = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      raw[name] = v;
    }
  }
  const parsed = ArgsSchema.strict().safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
  return parsed.data;
}

/** A self-signed RSA certificate like `New-SelfSignedCertificate` / winrm quickconfig makes. */
function ensureCertificate(dir: string, hostname: string, address: string): { certPem: string; keyPem: string } {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  if (!existsSync(cert)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-sha256", "-days", "825", "-nodes", "-keyout", key, "-out", cert, "-subj", `/CN=${hostname}`,
        "-addext", `subjectAltName=DNS:${hostname},DNS:${hostname.toLowerCase()},DNS:localhost,IP:${address}`],
      { stdio: "ignore" },
    );
  }
  return { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
}

/**
 * One ed25519 key pair made by OpenSSH's own ssh-keygen, as Windows' OpenSSH server makes its host
 * keys. Not ssh2's generateKeyPairSync: it strips leading zero bytes from the public key, so about
 * one key in 256 comes out "Malformed OpenSSH private/public key" (mscdex/ssh2#1513, #1390), which
 * made one double in ~50 fail to start. Written under a temporary name and renamed, so a reader
 * never sees half a key.
 */
export function ensureKeyPair(file: string, comment: string): void {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  rmSync(`${tmp}.pub`, { force: true });
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", tmp], { stdio: "ignore" });
  renameSync(`${tmp}.pub`, `${file}.pub`);
  renameSync(tmp, file);
}

function ensureSshKeys(dir: string, authorizedKeysArg: string | undefined): { hostKeyPem: string; authorizedKeysFile: string; clientKeyFile: string } {
  mkdirSync(dir, { recursive: true });
  const hostKey = path.join(dir, "host_ed25519");
  const clientKey = path.join(dir, "client_ed25519");
  const authorized = authorizedKeysArg ?? path.join(dir, "authorized_keys");
  ensureKeyPair(hostKey, "windows-double-host");
  ensureKeyPair(clientKey, "tlsfleet-test-client");
  if (!authorizedKeysArg && !existsSync(authorized)) writeFileSync(authorized, readFileSync(`${clientKey}.pub`, "utf8"));
  return { hostKeyPem: readFileSync(hostKey, "utf8"), authorizedKeysFile: authorized, clientKeyFile: clientKey };
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const stateDir = path.resolve(args.state);
  mkdirSync(stateDir, { recursive: true });
  const profile = loadProfile(args.profile);
  const registry = !args.reset && WindowsMachine.registryExists(stateDir) ? Registry.load(path.join(stateDir, "registry.json")) : profile.registry;
  const machine = new WindowsMachine({ stateDir, registry, hostname: profile.hostname, rebootDowntimeMs: args["reboot-downtime-ms"], locale: profile.locale });
  machine.persistRegistry();

  const { certPem, keyPem } = ensureCertificate(path.join(stateDir, "tls"), profile.hostname, args.listen);
  const x509 = new X509Certificate(certPem);
  const ssh = ensureSshKeys(path.join(stateDir, "ssh"), args["authorized-keys"]);
  const accounts = new Map([[args.user, args.password]]);

  const winrm = new WinRmServer({
    machine,
    accounts,
    host: args.listen,
    httpsPort: args["winrm-https-port"],
    httpPort: args["winrm-http-port"],
    certPem,
    keyPem,
    certDer: x509.raw,
    requireChannelBinding: args["cbt-strict"],
  });
  const sshServer = new SshServer({ machine, host: args.listen, port: args["ssh-port"], hostKeyPem: ssh.hostKeyPem, authorizedKeysFile: ssh.authorizedKeysFile, user: args.user });
  const smtp = new SmtpServer({ machine, host: args.listen, port: args["smtp-port"], certPem, keyPem });
  const services = [winrm, sshServer, smtp];

  let firstBoot: (() => void) | null = null;
  const booted = new Promise<void>((r) => (firstBoot = r));
  machine.on("down", () => {
    void Promise.all(services.map((s) => s.stop())).catch((e: unknown) => machine.log({ type: "double-error", where: "down", error: String(e) }));
  });
  machine.on("up", () => {
    void (async () => {
      // After the first boot the ports are fixed (port 0 was resolved then).
      for (const s of services) await s.start();
      machine.log({ type: "listening", ports: ports() });
      firstBoot?.();
      firstBoot = null;
    })().catch((e: unknown) => {
      machine.log({ type: "double-error", where: "up", error: String(e) });
      process.stderr.write(`windows-double: cannot listen: ${String(e)}\n`);
      process.exit(1);
    });
  });
  const ports = () => ({ winrmHttps: winrm.httpsPort, winrmHttp: winrm.httpPort, ssh: sshServer.port, smtp: smtp.port });

  machine.boot();
  await booted;
  const hostPub = readFileSync(path.join(stateDir, "ssh", "host_ed25519.pub"), "utf8").trim();
  const parsedHost = ssh2.utils.parseKey(hostPub);
  const ready = {
    event: "ready",
    pid: process.pid,
    listen: args.listen,
    hostname: profile.hostname,
    profile: args.profile,
    ports: ports(),
    user: args.user,
    password: args.password,
    certificate: { sha1: x509.fingerprint.replace(/:/g, ""), sha256: x509.fingerprint256.replace(/:/g, ""), pem: path.join(stateDir, "tls", "cert.pem") },
    ssh: {
      hostKey: hostPub,
      hostKeySha256: parsedHost instanceof Error ? null : createHash("sha256").update(parsedHost.getPublicSSH()).digest("base64").replace(/=+$/, ""),
      clientKey: ssh.clientKeyFile,
    },
    tlsServerVersions: machine.tlsServerVersions,
    smtpServerVersions: machine.smtpServerVersions,
    tlsClientVersions: machine.tlsClientVersions,
    locale: machine.locale.name,
    eventsFile: path.join(stateDir, "events.jsonl"),
  };
  writeFileSync(path.join(stateDir, "ready.json"), JSON.stringify(ready, null, 2));
  process.stdout.write(`${JSON.stringify(ready)}\n`);

  const stop = () => {
    machine.shutdownTimers();
    void Promise.all(services.map((s) => s.stop())).finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`windows-double: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
}
