// The lab fleet: real Postfix, nginx, Dovecot and OpenSSH servers, each in its own network
// namespace with its own address, built from Debian's packages at `up` time.
// Entry point is lab.sh (it takes a lock); see README.md for the layout and conventions.
import { execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH, HOSTS, LEGACY_CIPHERS, PEERS, PEER_ADDRESS_BASE, PEER_EXPECTED, ROLLOUT_BENCH } from "./hosts.mjs";

const LAB_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIR = path.resolve(LAB_DIR, "../..");
const STATE = path.join(LAB_DIR, ".state");
// Runtime files that unprivileged daemon users (postfix, dovecot) must reach, and Dovecot's unix
// sockets (108-byte path limit): kept short and world-traversable under /run, whatever the
// checkout path is.
const RUN = "/run/tlsfleet-lab";
const NS_PREFIX = "tlsf-";
const BRIDGE = "tlsf-br0";
const BRIDGE_ADDRESS = "198.18.0.1";
const HOST_VETH_PREFIX = "tlsfv";
const BENCH_NS = `${NS_PREFIX}${BENCH.name}`;
const BENCH_VETH = "tlsfb0";
const DOMAIN = "lab.tlsfleet.test";
const MANIFEST = path.join(STATE, "fleet.json");
const BENCH_MANIFEST = path.join(STATE, "bench.json");
const CLIENT_KEY = path.join(STATE, "ssh", "lab_client_ed25519");
const KNOWN_HOSTS = path.join(STATE, "ssh", "known_hosts");
const SSH_CONFIG = path.join(STATE, "ssh", "config");
const PEERS_DIR = path.join(LAB_DIR, "peers");
const TSX_LOADER = path.join(REPO_DIR, "node_modules", "tsx", "dist", "loader.mjs");
const MANIFEST_VERSION = 1;
// The rollout bench layout keeps everything under names of its own (see ROLLOUT_BENCH in hosts.mjs):
// the normal lab's `up`/`down` skip these entries of STATE and RUN.
const ROLLOUT_STATE = path.join(STATE, ROLLOUT_BENCH.name);
const ROLLOUT_RUN = path.join(RUN, ROLLOUT_BENCH.name);
const ROLLOUT_MANIFEST = path.join(STATE, `${ROLLOUT_BENCH.name}.json`);
const ROLLOUT_ENTRIES = new Set([ROLLOUT_BENCH.name, `${ROLLOUT_BENCH.name}.json`]);

// ---------------------------------------------------------------------------------------------
// small helpers

function log(...args) {
  process.stderr.write(`[lab] ${args.join(" ")}\n`);
}

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
  } catch (err) {
    const out = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim();
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${err.status}): ${out}`);
  }
}

function tryRun(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return r.status === 0;
}

/** Starts a self-daemonizing server inside a namespace; its output goes to a file so we never wait on it. */
function startDaemon(ns, logFile, argv) {
  const fd = fs.openSync(logFile, "a");
  try {
    const r = spawnSync("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", fd, fd], timeout: 60_000 });
    if (r.status !== 0) {
      throw new Error(`${argv.join(" ")} in ${ns} exited ${r.status ?? r.signal}; see ${logFile}:\n${tail(logFile)}`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** startDaemon without blocking the event loop, so many hosts can start at once (the rollout bench). */
function startDaemonAsync(ns, logFile, argv) {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logFile, "a");
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", fd, fd] });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const done = (err) => {
      clearTimeout(timer);
      fs.closeSync(fd);
      if (err) reject(err);
      else resolve();
    };
    child.once("error", done);
    child.once("exit", (code, signal) => done(code === 0 ? null : new Error(`${argv.join(" ")} in ${ns} exited ${code ?? signal}; see ${logFile}:\n${tail(logFile)}`)));
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimit(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Starts a foreground process (Node peers, the delay relay) detached inside a namespace. */
function startForeground(ns, logFile, pidFile, argv) {
  const fd = fs.openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", fd, fd], detached: true });
  child.unref();
  fs.closeSync(fd);
  // `ip netns exec` execs the command in place, so this pid is the server's own.
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function write(file, text, mode) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, mode === undefined ? undefined : { mode });
  if (mode !== undefined) fs.chmodSync(file, mode);
}

function mkdir(dir, owner) {
  fs.mkdirSync(dir, { recursive: true });
  if (owner) run("chown", [owner, dir]);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

function readPid(file) {
  try {
    return Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10);
  } catch {
    return NaN;
  }
}

function tcpOpen(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

function shQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// namespaces and links

function namespaces(prefix) {
  const out = run("ip", ["netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n && n.startsWith(prefix));
}

/** The normal lab's and the bench's namespaces (`tlsf-*`); the rollout bench's (`tlsfrb-*`) are not among them. */
function labNamespaces() {
  return namespaces(NS_PREFIX);
}

function linkExists(name) {
  return tryRun("ip", ["link", "show", "dev", name]);
}

/** Ends every process inside a lab namespace (only lab daemons live there), then removes it. */
async function destroyNamespace(ns) {
  const pids = () =>
    spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" })
      .stdout.split("\n")
      .map((s) => Number.parseInt(s, 10))
      .filter((n) => Number.isInteger(n) && n > 0);
  for (const signal of ["SIGTERM", "SIGKILL"]) {
    const list = pids();
    if (list.length === 0) break;
    for (const pid of list) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
    for (let i = 0; i < 30 && pids().length > 0; i++) await sleep(100);
  }
  const left = pids();
  if (left.length > 0) throw new Error(`processes ${left.join(", ")} in ${ns} survived SIGKILL`);
  tryRun("ip", ["netns", "del", ns]);
}

/** Kills processes started from pid files whose namespace is already gone (a crashed run). */
function killStrayPids(dir) {
  if (!fs.existsSync(dir)) return;
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".pid")) {
        const pid = readPid(p);
        if (pidAlive(pid) && isLabProcess(pid)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            /* gone */
          }
        }
      }
    }
  };
  walk(dir);
}

/** A pid from our own pid file that still runs a lab daemon (pids get reused): it must sit in
 * another network namespace than ours and look like one of the lab's servers. */
function isLabProcess(pid) {
  try {
    if (fs.readlinkSync(`/proc/${pid}/ns/net`) === fs.readlinkSync("/proc/self/ns/net")) return false;
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return cmd.includes(STATE) || cmd.includes(LAB_DIR) || cmd.includes(RUN) || comm === "master";
  } catch {
    return false;
  }
}

function ensureBridge() {
  if (!linkExists(BRIDGE)) run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  const addrs = run("ip", ["-4", "addr", "show", "dev", BRIDGE]);
  if (!addrs.includes(`${BRIDGE_ADDRESS}/16`)) run("ip", ["addr", "add", `${BRIDGE_ADDRESS}/16`, "dev", BRIDGE]);
  run("ip", ["link", "set", BRIDGE, "up"]);
}

function createHostNamespace(ns, veth, addresses, prefixLen, { bridge, rootAddress } = {}) {
  if (linkExists(veth)) tryRun("ip", ["link", "del", veth]);
  run("ip", ["netns", "add", ns]);
  run("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  if (bridge) run("ip", ["link", "set", veth, "master", bridge]);
  if (rootAddress) run("ip", ["addr", "add", `${rootAddress}/${prefixLen}`, "dev", veth]);
  run("ip", ["link", "set", veth, "up"]);
  const inNs = (...args) => run("ip", ["netns", "exec", ns, "ip", ...args]);
  inNs("link", "set", "lo", "up");
  if (addresses.length > 20) {
    // One `ip -batch` instead of hundreds of processes for the bench namespace.
    const batch = addresses.map((a) => `addr add ${a}/${prefixLen} dev eth0`).join("\n") + "\n";
    execFileSync("ip", ["netns", "exec", ns, "ip", "-batch", "-"], { input: batch });
  } else {
    for (const a of addresses) inNs("addr", "add", `${a}/${prefixLen}`, "dev", "eth0");
  }
  inNs("link", "set", "eth0", "up");
  // No default route on purpose: lab daemons can reach the lab and nothing else.
}

// ---------------------------------------------------------------------------------------------
// keys and certificates (kept across `up` runs so pinned host keys stay valid until `down`)

function ensureClientKey() {
  if (fs.existsSync(CLIENT_KEY)) return;
  mkdir(path.dirname(CLIENT_KEY));
  run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tlsfleet-lab-client", "-f", CLIENT_KEY]);
}

function ensureCert(dir, cn, sans) {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  if (!fs.existsSync(cert) || !fs.existsSync(key)) {
    mkdir(dir);
    run("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
      "-keyout", key, "-out", cert, "-subj", `/O=tlsfleet lab/CN=${cn}`,
      "-addext", `subjectAltName=${sans.join(",")}`,
    ]);
    fs.chmodSync(key, 0o600);
  }
  return { cert, key };
}

function ensureHostKey(dir) {
  const key = path.join(dir, "ssh_host_ed25519_key");
  if (!fs.existsSync(key)) {
    mkdir(dir);
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tlsfleet-lab-host", "-f", key]);
  }
  const pub = fs.readFileSync(`${key}.pub`, "utf8").trim();
  const fp = run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${key}.pub`]).trim().split(/\s+/)[1];
  return { key, publicKey: pub.split(/\s+/).slice(0, 2).join(" "), fingerprint: fp };
}

// ---------------------------------------------------------------------------------------------
// per-host servers

function hostPaths(name) {
  const dir = path.join(STATE, "hosts", name);
  return {
    dir,
    bin: path.join(dir, "bin"),
    logs: path.join(dir, "logs"),
    tls: path.join(dir, "tls"),
    ssh: path.join(dir, "ssh"),
    postfix: path.join(dir, "postfix"),
    nginx: path.join(dir, "nginx"),
    dovecot: path.join(dir, "dovecot"),
    run: path.join(RUN, name),
  };
}

function postfixMain(host, p, tls, inetInterfaces, extra = {}) {
  const settings = {
    compatibility_level: "3.6",
    queue_directory: path.join(p.run, "postfix-queue"),
    data_directory: path.join(p.run, "postfix-data"),
    mail_owner: "postfix",
    setgid_group: "postdrop",
    myhostname: `${host}.${DOMAIN}`,
    mydomain: DOMAIN,
    myorigin: "$myhostname",
    mydestination: "",
    relay_domains: "",
    mynetworks: "127.0.0.0/8",
    inet_interfaces: inetInterfaces,
    inet_protocols: "ipv4",
    // There is no /dev/log in a namespace: without these Postfix errors vanish.
    maillog_file: path.join(p.logs, "postfix.log"),
    maillog_file_prefixes: p.logs,
    alias_maps: "",
    alias_database: "",
    local_recipient_maps: "",
    biff: "no",
    smtpd_banner: "$myhostname ESMTP Postfix (tlsfleet lab)",
    // The namespaces have no DNS: a reverse lookup would only add a timeout to every connection.
    smtpd_peername_lookup: "no",
    smtp_dns_support_level: "disabled",
    smtpd_tls_security_level: "may",
    smtpd_tls_cert_file: tls ? tls.cert : "",
    smtpd_tls_key_file: tls ? tls.key : "",
    smtpd_tls_loglevel: "1",
    smtp_tls_security_level: "may",
    ...extra,
  };
  const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
  return `# Postfix instance for lab host ${host} (generated by tests/lab/lab.mjs at \`lab up\`).\n# Edit with this host's postconf (ssh in, or ${p.bin}/postconf).\n${lines.join("\n")}\n`;
}

/**
 * master.cf. `smtpListeners`, when given, replaces the one `smtp` service on every address with
 * one service per address (`ADDRESS:smtp`), each with its own `-o` overrides.
 */
function postfixMaster(submission, smtpListeners = null) {
  // Debian's master.cf runs daemons chrooted in /var/spool/postfix; these instances live
  // elsewhere, so nothing is chrooted ("n" in the fifth column).
  const services = smtpListeners
    ? smtpListeners.flatMap((l) => [`${l.address}:smtp inet n       -       n       -       -       smtpd`, ...Object.entries(l.options).map(([k, v]) => `  -o ${k}=${v}`)])
    : ["smtp      inet  n       -       n       -       -       smtpd"];
  if (submission) {
    const opts = Object.entries(submission).map(([k, v]) => `  -o ${k}=${v}`);
    services.push("submission inet n       -       n       -       -       smtpd", "  -o syslog_name=postfix/submission", ...opts);
  }
  services.push(
    "pickup    unix  n       -       n       60      1       pickup",
    "cleanup   unix  n       -       n       -       0       cleanup",
    "qmgr      unix  n       -       n       300     1       qmgr",
    "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
    "rewrite   unix  -       -       n       -       -       trivial-rewrite",
    "bounce    unix  -       -       n       -       0       bounce",
    "defer     unix  -       -       n       -       0       bounce",
    "trace     unix  -       -       n       -       0       bounce",
    "verify    unix  -       -       n       -       1       verify",
    "flush     unix  n       -       n       1000?   0       flush",
    "proxymap  unix  -       -       n       -       -       proxymap",
    "proxywrite unix -       -       n       -       1       proxymap",
    "smtp      unix  -       -       n       -       -       smtp",
    "relay     unix  -       -       n       -       -       smtp",
    "showq     unix  n       -       n       -       -       showq",
    "error     unix  -       -       n       -       -       error",
    "retry     unix  -       -       n       -       -       error",
    "discard   unix  -       -       n       -       -       discard",
    "local     unix  -       n       n       -       -       local",
    "virtual   unix  -       n       n       -       -       virtual",
    "lmtp      unix  -       -       n       -       -       lmtp",
    "anvil     unix  -       -       n       -       1       anvil",
    "scache    unix  -       -       n       -       1       scache",
    "postlog   unix-dgram n  -       n       -       1       postlogd",
  );
  return `# master.cf for a tlsfleet lab Postfix instance.\n${services.join("\n")}\n`;
}

async function startPostfix(ns, name, p, mainCf, masterCf, start = startDaemon) {
  mkdir(p.postfix);
  write(path.join(p.postfix, "main.cf"), mainCf);
  write(path.join(p.postfix, "master.cf"), masterCf);
  mkdir(path.join(p.run, "postfix-queue"));
  mkdir(path.join(p.run, "postfix-data"), "postfix:postfix");
  // Creates the queue's subdirectories with Postfix's own ownership rules.
  await start(ns, path.join(p.logs, "postfix-start.log"), ["/usr/sbin/postfix", "-c", p.postfix, "set-permissions"]);
  await start(ns, path.join(p.logs, "postfix-start.log"), ["/usr/sbin/postfix", "-c", p.postfix, "start"]);
  log(`  postfix  ${name}: ${p.postfix}`);
}

function nginxConfig(name, p, site) {
  const main = `# nginx for lab host ${name} (generated by tests/lab/lab.mjs). The TLS settings live in
# conf.d/tls-site.conf, as they would in a Debian site file.
user www-data;
worker_processes ${site.workers ?? 1};
pid ${path.join(p.run, "nginx.pid")};
error_log ${path.join(p.logs, "nginx-error.log")};
events {
    worker_connections ${site.connections ?? 512};
}
http {
    access_log off;
    default_type text/plain;
    client_body_temp_path ${path.join(p.run, "nginx-body")};
    proxy_temp_path ${path.join(p.run, "nginx-proxy")};
    fastcgi_temp_path ${path.join(p.run, "nginx-fastcgi")};
    uwsgi_temp_path ${path.join(p.run, "nginx-uwsgi")};
    scgi_temp_path ${path.join(p.run, "nginx-scgi")};
    include ${path.join(p.nginx, "conf.d")}/*.conf;
}
`;
  const listens = site.listen.map((l) => `    listen ${l} ssl;`).join("\n");
  const tlsSite = `server {
${listens}
    server_name ${name}.${DOMAIN};
    ssl_certificate ${site.tls.cert};
    ssl_certificate_key ${site.tls.key};
    ssl_protocols ${site.protocols};
${site.ciphers ? `    ssl_ciphers ${site.ciphers};\n` : ""}    location / {
        return 200 "${name}\\n";
    }
}
`;
  return { main, tlsSite };
}

function startNginx(ns, name, p, site) {
  const { main, tlsSite } = nginxConfig(name, p, site);
  write(path.join(p.nginx, "nginx.conf"), main);
  write(path.join(p.nginx, "conf.d", "tls-site.conf"), tlsSite);
  mkdir(p.run);
  startDaemon(ns, path.join(p.logs, "nginx-start.log"), nginxArgv(p));
  log(`  nginx    ${name}: ${path.join(p.nginx, "nginx.conf")}`);
}

function nginxArgv(p) {
  return ["/usr/sbin/nginx", "-c", path.join(p.nginx, "nginx.conf"), "-e", path.join(p.logs, "nginx-error.log")];
}

function dovecotConfig(name, address, p, tls, opts) {
  return `# Dovecot for lab host ${name} (generated by tests/lab/lab.mjs).
instance_name = tlsf-${name}
base_dir = ${path.join(p.run, "dovecot")}
state_dir = ${path.join(p.run, "dovecot-state")}
protocols = imap pop3
listen = ${address}
log_path = ${path.join(p.logs, "dovecot.log")}
ssl = yes
ssl_cert = <${tls.cert}
ssl_key = <${tls.key}
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = ${opts.minProtocol}
${opts.ciphers ? `ssl_cipher_list = ${opts.ciphers}\n` : ""}ssl_prefer_server_ciphers = no
auth_mechanisms = plain
disable_plaintext_auth = yes
login_greeting = ${name} ready (tlsfleet lab)
passdb {
  driver = static
  args = password=lab-only-not-a-secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=/nonexistent
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
`;
}

function startDovecot(ns, name, address, p, tls, opts) {
  const conf = path.join(p.dovecot, "dovecot.conf");
  write(conf, dovecotConfig(name, address, p, tls, opts));
  mkdir(path.join(p.run, "dovecot"));
  mkdir(path.join(p.run, "dovecot-state"));
  startDaemon(ns, path.join(p.logs, "dovecot-start.log"), ["/usr/sbin/dovecot", "-c", conf]);
  log(`  dovecot  ${name}: ${conf}`);
}

/**
 * Per-host commands first in PATH of that host's ssh sessions, so `postconf`, `postfix`, `nginx`,
 * `doveconf`, `doveadm` (and `systemctl reload|restart|status` for them) act on this host's
 * instance. Software a host does not run answers like a missing command (exit 127).
 */
function writeWrappers(name, roles, p) {
  mkdir(p.bin);
  const header = (what) => `#!/bin/sh\n# tlsfleet lab host ${name}: ${what}\n`;
  const missing = (cmd) => `${header(`${cmd} is not installed on this host`)}echo "sh: 1: ${cmd}: not found" >&2\nexit 127\n`;
  const has = (role) => roles.includes(role);
  const conf = {
    nginx: path.join(p.nginx, "nginx.conf"),
    dovecot: path.join(p.dovecot, "dovecot.conf"),
  };
  const wrappers = {
    postconf: has("postfix") ? `${header("postconf of this host's Postfix instance")}exec /usr/sbin/postconf -c ${shQuote(p.postfix)} "$@"\n` : missing("postconf"),
    postfix: has("postfix") ? `${header("postfix of this host's Postfix instance")}exec /usr/sbin/postfix -c ${shQuote(p.postfix)} "$@"\n` : missing("postfix"),
    nginx: has("nginx") ? `${header("this host's nginx instance")}exec /usr/sbin/nginx -c ${shQuote(conf.nginx)} -e ${shQuote(path.join(p.logs, "nginx-error.log"))} "$@"\n` : missing("nginx"),
    doveconf: has("dovecot") ? `${header("doveconf of this host's Dovecot instance")}exec /usr/bin/doveconf -c ${shQuote(conf.dovecot)} "$@"\n` : missing("doveconf"),
    doveadm: has("dovecot") ? `${header("doveadm of this host's Dovecot instance")}exec /usr/bin/doveadm -c ${shQuote(conf.dovecot)} "$@"\n` : missing("doveadm"),
    dovecot: has("dovecot") ? `${header("this host's Dovecot instance")}exec /usr/sbin/dovecot -c ${shQuote(conf.dovecot)} "$@"\n` : missing("dovecot"),
  };
  const services = roles.filter((r) => ["postfix", "nginx", "dovecot"].includes(r));
  wrappers.systemctl = `${header("the few systemctl verbs playbooks use, for this host's lab daemons (there is no systemd here)")}
# usage: systemctl reload|restart|start|stop|status|is-active SERVICE
verb="$1"; unit="\${2%.service}"
case " ${services.join(" ")} " in *" $unit "*) ;; *) echo "Unit $unit.service could not be found." >&2; exit 4 ;; esac
log=${shQuote(path.join(p.logs, "systemctl.log"))}
case "$unit:$verb" in
  postfix:reload) exec postfix reload ;;
  postfix:start) postfix start </dev/null >>"$log" 2>&1 ;;
  postfix:stop) postfix stop </dev/null >>"$log" 2>&1 ;;
  postfix:restart) postfix stop </dev/null >>"$log" 2>&1; postfix start </dev/null >>"$log" 2>&1 ;;
  postfix:status|postfix:is-active) postfix status </dev/null >/dev/null 2>&1 && { echo active; exit 0; } || { echo inactive; exit 3; } ;;
  nginx:reload) exec nginx -s reload ;;
  nginx:start) nginx </dev/null >>"$log" 2>&1 ;;
  nginx:stop) nginx -s quit </dev/null >>"$log" 2>&1 ;;
  nginx:restart) nginx -s quit </dev/null >>"$log" 2>&1; sleep 1; nginx </dev/null >>"$log" 2>&1 ;;
  nginx:status|nginx:is-active) kill -0 "$(cat ${shQuote(path.join(p.run, "nginx.pid"))} 2>/dev/null)" 2>/dev/null && { echo active; exit 0; } || { echo inactive; exit 3; } ;;
  dovecot:reload) exec doveadm reload ;;
  dovecot:start) dovecot </dev/null >>"$log" 2>&1 ;;
  dovecot:stop) doveadm stop </dev/null >>"$log" 2>&1 ;;
  dovecot:restart) doveadm stop </dev/null >>"$log" 2>&1; sleep 1; dovecot </dev/null >>"$log" 2>&1 ;;
  dovecot:status|dovecot:is-active) kill -0 "$(cat ${shQuote(path.join(p.run, "dovecot", "master.pid"))} 2>/dev/null)" 2>/dev/null && { echo active; exit 0; } || { echo inactive; exit 3; } ;;
  *) echo "systemctl (tlsfleet lab): unsupported: $*" >&2; exit 1 ;;
esac
`;
  for (const [cmd, text] of Object.entries(wrappers)) write(path.join(p.bin, cmd), text, 0o755);
  return Object.keys(wrappers);
}

async function startSshd(ns, name, address, p, hostKey, start = startDaemon, { home = path.join(p.dir, "home") } = {}) {
  if (home) mkdir(home);
  const clientPub = fs.readFileSync(`${CLIENT_KEY}.pub`, "utf8");
  write(path.join(p.ssh, "authorized_keys"), clientPub, 0o600);
  const envPath = `${p.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const setEnv = [`PATH=${envPath}`, `TLSFLEET_LAB_HOST=${name}`];
  if (fs.existsSync(path.join(p.postfix, "main.cf"))) setEnv.push(`MAIL_CONFIG=${p.postfix}`);
  // Root's home on the host: one of its own (empty), as a real server has, unless `home` is
  // null (the rollout bench's --shared-home: this machine's /root). bash started by sshd reads
  // ~/.bashrc, and this machine's initialises pyenv, which costs 90 ms of CPU per command and,
  // with many sessions at once, races on its shims: CI saw its complaints on stderr, and
  // sessions that printed nothing at all (exit 0 or 255 with empty output).
  if (home) setEnv.push(`HOME=${home}`);
  const conf = `# sshd for lab host ${name} (generated by tests/lab/lab.mjs).
ListenAddress ${address}:22
HostKey ${hostKey.key}
PidFile ${path.join(p.run, "sshd.pid")}
AuthorizedKeysFile ${path.join(p.ssh, "authorized_keys")}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The state folder lives in a checkout whose permissions we do not control.
StrictModes no
PrintMotd no
X11Forwarding no
MaxStartups 50:30:100
Subsystem sftp /usr/lib/openssh/sftp-server
# Puts this host's postconf/postfix/nginx/doveconf/doveadm wrappers first (see README.md).
SetEnv ${setEnv.join(" ")}
`;
  const confFile = path.join(p.ssh, "sshd_config");
  write(confFile, conf);
  mkdir("/run/sshd");
  await start(ns, path.join(p.logs, "sshd-start.log"), ["/usr/sbin/sshd", "-f", confFile, "-E", path.join(p.logs, "sshd.log")]);
}

// ---------------------------------------------------------------------------------------------
// misbehaving peers (tests/lab/peers, written alongside this lab)

/**
 * Which files of tests/lab/peers are peers: those named in PEERS (hosts.mjs), and any NAME.mjs or
 * NAME.ts (not *.test.*) with a line
 *   // lab-peer: port=25 service=smtp verdict=unreachable starttls=not-applicable expect=unknown,unknown,unknown,unknown args=--stall
 * (every key optional: port 25, service smtp, verdict unreachable, starttls not asserted, all
 * versions unknown, no extra args; `expect` lists TLSv1,TLSv1.1,TLSv1.2,TLSv1.3). Each is started as
 * `node [--import tsx] FILE --listen ADDR:PORT [args]` in its own lab host `peer-NAME`.
 */
const peerRecordFile = (p) => path.join(p.logs, "records.jsonl");

function discoverPeers() {
  if (!fs.existsSync(PEERS_DIR)) return [];
  const files = fs
    .readdirSync(PEERS_DIR)
    .filter((f) => /\.(mjs|ts)$/.test(f) && !/\.(test|spec)\./.test(f) && !f.endsWith(".d.ts"))
    .sort();
  const seen = new Set();
  const peers = [];
  let nextAddress = PEER_ADDRESS_BASE;
  for (const file of files) {
    const base = file.replace(/\.(mjs|ts)$/, "");
    if (seen.has(base)) continue; // NAME.mjs and NAME.ts: the first (.mjs) wins
    const text = fs.readFileSync(path.join(PEERS_DIR, file), "utf8");
    const marker = text.match(/lab-peer:([^\n]*)/)?.[1];
    const known = PEERS[base];
    if (marker === undefined && !known) continue; // a helper module, not a peer
    seen.add(base);
    const meta = Object.fromEntries([...(marker ?? "").matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const expect = meta.expect?.split(",");
    const versions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
    peers.push({
      name: `peer-${base}`.slice(0, 40),
      file: path.join(PEERS_DIR, file),
      address: known?.address ?? `198.18.0.${nextAddress++}`,
      roles: ["peer"],
      port: meta.port ? Number.parseInt(meta.port, 10) : known?.port ?? 25,
      service: meta.service ?? known?.service ?? "smtp",
      verdict: meta.verdict ?? known?.expectedVerdict ?? "unreachable",
      starttls: meta.starttls ?? known?.starttls ?? null,
      expected: expect?.length === 4 ? Object.fromEntries(versions.map((v, i) => [v, expect[i]])) : known?.expected ?? PEER_EXPECTED,
      args: meta.args ? meta.args.split(",") : known?.args ?? [],
    });
  }
  return peers;
}

/** Starts a peer; `--record FILE` is where it may write what it saw (peerRecorder in peers/common.ts), fresh per start. */
function startPeer(ns, peer, p) {
  const argv = ["node"];
  if (peer.file.endsWith(".ts")) argv.push("--import", TSX_LOADER);
  fs.rmSync(peerRecordFile(p), { force: true });
  argv.push(peer.file, "--listen", `${peer.address}:${peer.port}`, "--record", peerRecordFile(p), ...peer.args);
  startForeground(ns, path.join(p.logs, "peer.log"), path.join(p.run, "peer.pid"), argv);
  log(`  peer     ${peer.name}: ${path.relative(REPO_DIR, peer.file)} on ${peer.address}:${peer.port}`);
}

// ---------------------------------------------------------------------------------------------
// the normal lab

function allHosts() {
  const peers = discoverPeers();
  return [
    ...HOSTS.map((h) => ({ ...h, kind: "server" })),
    ...peers.map((peer) => ({
      name: peer.name,
      address: peer.address,
      roles: peer.roles,
      peer,
      kind: "peer",
      endpoints: [
        {
          port: peer.port,
          service: peer.service,
          starttls: peer.starttls,
          expected: peer.expected,
          expectedVerdict: peer.verdict,
        },
      ],
    })),
  ];
}

async function upNormal() {
  const hosts = allHosts();
  fs.rmSync(MANIFEST, { force: true });
  await teardownNormal({ keepState: true });
  mkdir(STATE);
  mkdir(RUN);
  ensureBridge();
  ensureClientKey();

  const manifestHosts = [];
  const knownHosts = [];
  const sshConfig = [];
  for (const [index, host] of hosts.entries()) {
    const ns = `${NS_PREFIX}${host.name}`;
    const p = hostPaths(host.name);
    log(`host ${host.name} (${host.address}) in ${ns}`);
    mkdir(p.logs);
    mkdir(p.run);
    const addresses = [host.address, ...(host.extraAddresses ?? [])];
    createHostNamespace(ns, `${HOST_VETH_PREFIX}${index}`, addresses, 16, { bridge: BRIDGE });
    const fqdn = `${host.name}.${DOMAIN}`;
    const tls = ensureCert(p.tls, fqdn, [`DNS:${fqdn}`, `IP:${host.address}`]);
    const hostKey = ensureHostKey(p.ssh);
    const config = {};

    if (host.postfix) {
      const main = postfixMain(host.name, p, host.postfix.noTls ? null : tls, addresses.join(", "), host.postfix.main);
      await startPostfix(ns, host.name, p, main, postfixMaster(host.postfix.submission));
      config.postfix = { configDir: p.postfix, mainCf: path.join(p.postfix, "main.cf"), masterCf: path.join(p.postfix, "master.cf"), log: path.join(p.logs, "postfix.log") };
    }
    if (host.nginx) {
      startNginx(ns, host.name, p, { listen: [`${host.address}:443`], tls, protocols: host.nginx.protocols, ciphers: host.nginx.ciphers });
      config.nginx = { configFile: path.join(p.nginx, "nginx.conf"), tlsFile: path.join(p.nginx, "conf.d", "tls-site.conf"), pidFile: path.join(p.run, "nginx.pid"), log: path.join(p.logs, "nginx-error.log") };
    }
    if (host.dovecot) {
      startDovecot(ns, host.name, host.address, p, tls, host.dovecot);
      config.dovecot = { configFile: path.join(p.dovecot, "dovecot.conf"), baseDir: path.join(p.run, "dovecot"), log: path.join(p.logs, "dovecot.log") };
    }
    if (host.peer) {
      startPeer(ns, host.peer, p);
      config.peer = { script: host.peer.file, pidFile: path.join(p.run, "peer.pid"), log: path.join(p.logs, "peer.log"), record: peerRecordFile(p) };
    }
    const commands = writeWrappers(host.name, host.roles, p);
    await startSshd(ns, host.name, host.address, p, hostKey);

    knownHosts.push(`${host.address} ${hostKey.publicKey}`);
    sshConfig.push(
      `Host ${host.name} ${host.address}`,
      `  HostName ${host.address}`,
      "  User root",
      `  IdentityFile ${CLIENT_KEY}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${KNOWN_HOSTS}`,
      "  StrictHostKeyChecking yes",
      "",
    );
    manifestHosts.push({
      name: host.name,
      namespace: ns,
      address: host.address,
      extraAddresses: host.extraAddresses ?? [],
      clientConnectionLimit: host.clientConnectionLimit ?? null,
      roles: host.roles,
      platform: "linux",
      kind: host.kind,
      ssh: {
        port: 22,
        user: "root",
        keyPath: CLIENT_KEY,
        hostKeyFingerprint: hostKey.fingerprint,
        hostKey: hostKey.publicKey,
      },
      binDir: p.bin,
      commands,
      config,
      certificate: { subject: `CN=${fqdn}`, file: tls.cert },
      logsDir: p.logs,
      endpoints: host.endpoints.map((e) => ({
        port: e.port,
        service: e.service,
        tls: ["smtp", "submission", "imap", "pop3"].includes(e.service) ? "starttls" : "implicit",
        // null: not asserted (a peer that describes itself without saying).
        starttls: e.starttls !== undefined ? e.starttls : ["smtp", "submission", "imap", "pop3"].includes(e.service) ? "offered" : "not-applicable",
        expected: e.expected,
        expectedVerdict: e.expectedVerdict,
      })),
    });
  }
  write(KNOWN_HOSTS, `${knownHosts.join("\n")}\n`);
  write(SSH_CONFIG, `# ssh -F ${SSH_CONFIG} HOST COMMAND\n${sshConfig.join("\n")}`);

  await waitForEndpoints(manifestHosts.flatMap((h) => [{ host: h.address, port: 22, what: `${h.name} ssh` }, ...h.endpoints.map((e) => ({ host: h.address, port: e.port, what: `${h.name} ${e.service}` }))]));

  await checkSshWrappers(manifestHosts);

  const manifest = {
    version: MANIFEST_VERSION,
    createdAt: new Date().toISOString(),
    profile: "normal",
    stateDir: STATE,
    runDir: RUN,
    network: { bridge: BRIDGE, rootAddress: BRIDGE_ADDRESS, prefix: "198.18.0.0/16" },
    ssh: { user: "root", keyPath: CLIENT_KEY, knownHostsPath: KNOWN_HOSTS, configPath: SSH_CONFIG },
    hosts: manifestHosts,
  };
  write(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`lab up: ${manifestHosts.length} hosts, ${manifestHosts.reduce((n, h) => n + h.endpoints.length, 0)} endpoints; manifest ${path.relative(REPO_DIR, MANIFEST)}`);
}

/**
 * Proves the promise playbooks rely on: inside host X's ssh session, postconf / nginx / doveconf
 * act on X's own instance (each answers with X's address), and missing software exits 127.
 */
async function checkSshWrappers(hosts, sshConfig = SSH_CONFIG) {
  const sshOnce = (host, command) =>
    new Promise((resolve) => {
      execFile("ssh", ["-F", sshConfig, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", host.name, command], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out: `${stdout}${stderr}`, stdout }),
      );
    });
  // 255 is ssh's own failure (the connection, not the command). Seen once on a freshly built lab
  // with nothing printed (imap-modern, CI load); the check is about the session's setup, so a
  // connection hiccup is retried twice before it counts.
  const sshRun = async (host, command) => {
    let r = await sshOnce(host, command);
    for (let attempt = 1; attempt <= 2 && (r.code === 255 || r.code === -1); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      r = await sshOnce(host, command);
    }
    return r;
  };
  const problems = [];
  await Promise.all(
    hosts.map(async (h) => {
      // Values are read from stdout only: root's ~/.bashrc on these machines may complain on stderr
      // (pyenv's rehash, when many sessions start at once).
      const who = await sshRun(h, "echo $TLSFLEET_LAB_HOST");
      if (who.stdout.trim() !== h.name) problems.push(`${h.name}: ssh session is not set up (${who.code}: ${who.out.trim()})`);
      const checks = [];
      if (h.roles.includes("postfix")) checks.push(["postconf -h inet_interfaces", (r) => r.code === 0 && r.stdout.trim() === [h.address, ...(h.extraAddresses ?? [])].join(", ")]);
      else checks.push(["postconf -h inet_interfaces", (r) => r.code === 127]);
      if (h.roles.includes("nginx")) checks.push(["nginx -T 2>&1", (r) => r.code === 0 && r.out.includes(`listen ${h.address}:443`)]);
      if (h.roles.includes("dovecot")) checks.push(["doveconf -h listen", (r) => r.code === 0 && r.stdout.trim() === h.address]);
      for (const [command, ok] of checks) {
        const r = await sshRun(h, command);
        if (!ok(r)) problems.push(`${h.name}: \`${command}\` over ssh gave exit ${r.code}: ${r.out.trim().slice(0, 200)}`);
      }
    }),
  );
  if (problems.length > 0) throw new Error(`ssh sessions do not act on their own host:\n  ${problems.join("\n  ")}`);
  log(`ssh: ${hosts.length} hosts answer with their own instance`);
}

async function waitForEndpoints(list, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let pending = list;
  while (pending.length > 0) {
    const results = await Promise.all(pending.map((e) => tcpOpen(e.host, e.port)));
    pending = pending.filter((_, i) => !results[i]);
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`not listening after ${timeoutMs / 1000}s: ${pending.map((e) => `${e.what} ${e.host}:${e.port}`).join(", ")} (logs under ${path.join(STATE, "hosts")})`);
    }
    await sleep(200);
  }
}

async function teardownNormal({ keepState }) {
  // The bench layout and the rollout bench layout (whose tlsfrb-* namespaces labNamespaces never
  // lists) outlive the normal lab: only their own *-down commands remove them.
  await Promise.all(labNamespaces().filter((ns) => ns !== BENCH_NS).map((ns) => destroyNamespace(ns)));
  const ours = (entry) => entry !== BENCH.name && !ROLLOUT_ENTRIES.has(entry);
  for (const entry of fs.existsSync(RUN) ? fs.readdirSync(RUN) : []) if (ours(entry)) killStrayPids(path.join(RUN, entry));
  for (const line of run("ip", ["-o", "link", "show"]).split("\n")) {
    const name = line.split(":")[1]?.trim().split("@")[0];
    if (name && name.startsWith(HOST_VETH_PREFIX)) tryRun("ip", ["link", "del", name]);
  }
  if (linkExists(BRIDGE)) tryRun("ip", ["link", "del", BRIDGE]);
  for (const entry of fs.existsSync(RUN) ? fs.readdirSync(RUN) : []) {
    if (ours(entry)) fs.rmSync(path.join(RUN, entry), { recursive: true, force: true });
  }
  if (!keepState) {
    fs.rmSync(MANIFEST, { force: true });
    for (const entry of fs.existsSync(STATE) ? fs.readdirSync(STATE) : []) {
      if (entry !== "bench" && entry !== "bench.json" && !ROLLOUT_ENTRIES.has(entry)) fs.rmSync(path.join(STATE, entry), { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the bench layout

/**
 * The bench layout. "one-server" (the default, what bench:probe measures): one Postfix service on
 * every address, all greeting as bench.lab.tlsfleet.test, so the prober treats the 250 addresses as
 * one server with one budget. "distinct-servers" (`bench-up --distinct-servers`): the same Postfix
 * with one service per address, each greeting as BENCH.serverName(i), so each address is a server
 * of its own (nginx sends no greeting: its addresses are distinct servers in both layouts).
 */
async function upBench(layout = "one-server") {
  if (!BENCH.layouts.includes(layout)) throw new Error(`unknown bench layout ${layout}`);
  fs.rmSync(BENCH_MANIFEST, { force: true });
  await teardownBench();
  mkdir(STATE);
  const name = BENCH.name;
  const p = { ...hostPaths(name), dir: path.join(STATE, name) };
  for (const k of ["bin", "logs", "tls", "ssh", "postfix", "nginx", "dovecot"]) p[k] = path.join(p.dir, k);
  mkdir(p.logs);
  mkdir(p.run);
  log(`bench: ${BENCH.addresses.length} addresses in ${BENCH_NS}`);
  createHostNamespace(BENCH_NS, BENCH_VETH, BENCH.addresses, 16, { rootAddress: BENCH.rootAddress });
  const tls = ensureCert(p.tls, `bench.${DOMAIN}`, [`DNS:bench.${DOMAIN}`]);
  // Both bench servers accept every version: four full handshakes per endpoint, the most work
  // either tool can be asked to do on a reachable endpoint.
  const main = postfixMain(name, p, tls, "all", {
    smtpd_tls_protocols: ">=TLSv1",
    smtpd_tls_mandatory_protocols: ">=TLSv1",
    tls_medium_cipherlist: LEGACY_CIPHERS,
    // Every probe comes from the one root address: lift the per-client limits and let enough
    // smtpd processes run for a wide scan.
    // 0 = no limit (postconf(5)). In the distinct-servers layout this is what makes each address
    // behave like a server of its own for us: anvil counts per client and service, each address is
    // its own service there, and no number of workers x per-server budget (40 each) can reach a
    // limit that is not there; a finite limit would be one more thing the bench measures.
    smtpd_client_connection_count_limit: "0",
    smtpd_client_connection_rate_limit: "0",
    // Per service: one smtp service on all addresses, or one per address in distinct-servers.
    default_process_limit: "300",
    smtpd_tls_loglevel: "0",
  });
  const listeners =
    layout === "distinct-servers"
      ? BENCH.addresses.map((address, i) => ({ address, options: { myhostname: BENCH.serverName(i), syslog_name: `postfix/mx${i + 1}` } }))
      : null;
  await startPostfix(BENCH_NS, name, p, main, postfixMaster(null, listeners));
  startNginx(BENCH_NS, name, p, { listen: ["443"], tls, protocols: "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3", ciphers: LEGACY_CIPHERS, workers: 2, connections: 4096 });

  const forwards = Object.entries(BENCH.delayedPorts).map(([from, to]) => `0.0.0.0:${from}=local:${to}`);
  startForeground(BENCH_NS, path.join(p.logs, "delay-relay.log"), path.join(p.run, "delay-relay.pid"), [
    "node", path.join(LAB_DIR, "delay-relay.mjs"), "--delay", String(BENCH.delayMs), ...forwards.flatMap((f) => ["--forward", f]),
  ]);

  const ports = [443, 25, ...Object.keys(BENCH.delayedPorts).map(Number)];
  await waitForEndpoints(ports.flatMap((port) => [BENCH.addresses[0], BENCH.addresses.at(-1)].map((host) => ({ host, port, what: `bench ${port}` }))));
  const direct = BENCH.addresses.flatMap((address) => [
    { address, port: 443, service: "https" },
    { address, port: 25, service: "smtp" },
  ]);
  const delayed = BENCH.addresses.flatMap((address) =>
    Object.entries(BENCH.delayedPorts).map(([from, to]) => ({ address, port: Number(from), service: Number(to) === 25 ? "smtp" : "https", via: `delay-relay to ${address}:${to}` })),
  );
  const manifest = {
    version: MANIFEST_VERSION,
    createdAt: new Date().toISOString(),
    namespace: BENCH_NS,
    rootAddress: BENCH.rootAddress,
    addresses: BENCH.addresses,
    // How many servers the Postfix addresses are (see upBench); scripts check it.
    layout,
    smtpServerNames: layout === "distinct-servers" ? BENCH.addresses.map((_, i) => BENCH.serverName(i)) : [`bench.${DOMAIN}`],
    expected: { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" },
    expectedVerdict: "noncompliant",
    config: { postfix: p.postfix, nginx: path.join(p.nginx, "nginx.conf") },
    delay: { perDirectionMs: BENCH.delayMs, relayPidFile: path.join(p.run, "delay-relay.pid") },
    endpoints: direct,
    delayedEndpoints: delayed,
  };
  write(BENCH_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`bench up (${layout}): ${direct.length} endpoints direct, ${delayed.length} through the ${2 * BENCH.delayMs} ms RTT relay; ${path.relative(REPO_DIR, BENCH_MANIFEST)}`);
}

async function teardownBench() {
  if (labNamespaces().includes(BENCH_NS)) await destroyNamespace(BENCH_NS);
  killStrayPids(path.join(RUN, BENCH.name));
  if (linkExists(BENCH_VETH)) tryRun("ip", ["link", "del", BENCH_VETH]);
  fs.rmSync(path.join(RUN, BENCH.name), { recursive: true, force: true });
  fs.rmSync(BENCH_MANIFEST, { force: true });
}

// ---------------------------------------------------------------------------------------------
// the rollout bench layout: 50 Postfix hosts with sshd, like mx-legacy (scripts/bench/rollout.ts)

function rolloutPaths(name) {
  const dir = path.join(ROLLOUT_STATE, "hosts", name);
  return { dir, bin: path.join(dir, "bin"), logs: path.join(dir, "logs"), tls: path.join(dir, "tls"), ssh: path.join(dir, "ssh"), postfix: path.join(dir, "postfix"), nginx: path.join(dir, "nginx"), dovecot: path.join(dir, "dovecot"), run: path.join(ROLLOUT_RUN, name) };
}

/** `ownHome` (the default): every host's root sessions get HOME=<host>/home (empty, no
 *  ~/.bashrc), as on the normal lab and a real server; false: this machine's /root. */
async function upRolloutBench({ ownHome = true } = {}) {
  fs.rmSync(ROLLOUT_MANIFEST, { force: true });
  await teardownRolloutBench();
  const rb = ROLLOUT_BENCH;
  mkdir(ROLLOUT_STATE);
  mkdir(RUN);
  mkdir(ROLLOUT_RUN);
  ensureClientKey();
  // A copy of the lab's client key: the normal lab's `down` deletes its own, and these hosts
  // outlive it.
  const sshDir = path.join(ROLLOUT_STATE, "ssh");
  const keyPath = path.join(sshDir, "lab_client_ed25519");
  const knownHostsPath = path.join(sshDir, "known_hosts");
  const configPath = path.join(sshDir, "config");
  mkdir(sshDir);
  fs.copyFileSync(CLIENT_KEY, keyPath);
  fs.chmodSync(keyPath, 0o600);
  fs.copyFileSync(`${CLIENT_KEY}.pub`, `${keyPath}.pub`);

  if (!linkExists(rb.bridge)) run("ip", ["link", "add", rb.bridge, "type", "bridge"]);
  run("ip", ["addr", "replace", `${rb.rootAddress}/${rb.prefixLen}`, "dev", rb.bridge]);
  run("ip", ["link", "set", rb.bridge, "up"]);
  log(`rollout bench: ${rb.hosts.length} Postfix hosts ${rb.hosts[0].address}-${rb.hosts.at(-1).address} on ${rb.bridge} (${rb.rootAddress}/${rb.prefixLen})`);

  const manifestHosts = new Array(rb.hosts.length);
  // Two cores: a few hosts at a time keeps `up` short without starving whatever else runs.
  await eachLimit(rb.hosts, 6, async (host, i) => {
    const p = rolloutPaths(host.name);
    mkdir(p.logs);
    mkdir(p.run);
    createHostNamespace(host.namespace, host.veth, [host.address], rb.prefixLen, { bridge: rb.bridge });
    const fqdn = `${host.name}.${DOMAIN}`;
    const tls = ensureCert(p.tls, fqdn, [`DNS:${fqdn}`, `IP:${host.address}`]);
    const hostKey = ensureHostKey(p.ssh);
    const home = ownHome ? path.join(p.dir, "home") : null;
    await startPostfix(host.namespace, host.name, p, postfixMain(host.name, p, tls, host.address, rb.postfix.main), postfixMaster(null), startDaemonAsync);
    const commands = writeWrappers(host.name, ["postfix"], p);
    await startSshd(host.namespace, host.name, host.address, p, hostKey, startDaemonAsync, { home });
    manifestHosts[i] = {
      name: host.name,
      namespace: host.namespace,
      address: host.address,
      roles: ["postfix"],
      platform: "linux",
      kind: "server",
      ssh: { port: 22, user: "root", keyPath, hostKeyFingerprint: hostKey.fingerprint, hostKey: hostKey.publicKey },
      binDir: p.bin,
      home: home ?? "/root",
      commands,
      config: { postfix: { configDir: p.postfix, mainCf: path.join(p.postfix, "main.cf"), masterCf: path.join(p.postfix, "master.cf"), log: path.join(p.logs, "postfix.log") } },
      certificate: { subject: `CN=${fqdn}`, file: tls.cert },
      logsDir: p.logs,
      endpoints: rb.endpoints.map((e) => ({ port: e.port, service: e.service, tls: "starttls", starttls: "offered", expected: e.expected, expectedVerdict: e.expectedVerdict })),
    };
  });
  write(knownHostsPath, `${manifestHosts.map((h) => `${h.address} ${h.ssh.hostKey}`).join("\n")}\n`);
  write(
    configPath,
    `# ssh -F ${configPath} HOST COMMAND\n${manifestHosts
      .map((h) => [`Host ${h.name} ${h.address}`, `  HostName ${h.address}`, "  User root", `  IdentityFile ${keyPath}`, "  IdentitiesOnly yes", `  UserKnownHostsFile ${knownHostsPath}`, "  StrictHostKeyChecking yes", ""].join("\n"))
      .join("\n")}`,
  );
  await waitForEndpoints(manifestHosts.flatMap((h) => [{ host: h.address, port: 22, what: `${h.name} ssh` }, { host: h.address, port: 25, what: `${h.name} smtp` }]));
  await checkSshWrappers(manifestHosts, configPath);
  const manifest = {
    version: MANIFEST_VERSION,
    createdAt: new Date().toISOString(),
    profile: rb.name,
    // "shared": root sessions use this machine's /root, as on the normal lab; "own": HOME=<host>/home.
    home: ownHome ? "own" : "shared",
    stateDir: ROLLOUT_STATE,
    runDir: ROLLOUT_RUN,
    network: { bridge: rb.bridge, rootAddress: rb.rootAddress, prefix: `${rb.rootAddress.replace(/\.\d+$/, ".0")}/${rb.prefixLen}` },
    ssh: { user: "root", keyPath, knownHostsPath, configPath },
    // What every host starts from, and what `postconf -e` puts back to reset one (mx-legacy's).
    legacyParameters: rb.postfix.main,
    hosts: manifestHosts,
  };
  write(ROLLOUT_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`rollout bench up: ${manifestHosts.length} hosts, ${ownHome ? "each with a root home of its own" : "root home shared with this machine"}; manifest ${path.relative(REPO_DIR, ROLLOUT_MANIFEST)}`);
}

/** Removes exactly the rollout bench: its tlsfrb-* namespaces, tlsfrbv* veths, bridge and state. */
async function teardownRolloutBench() {
  const rb = ROLLOUT_BENCH;
  await Promise.all(namespaces(rb.namespacePrefix).map((ns) => destroyNamespace(ns)));
  killStrayPids(ROLLOUT_RUN);
  for (const line of run("ip", ["-o", "link", "show"]).split("\n")) {
    const name = line.split(":")[1]?.trim().split("@")[0];
    if (name && name.startsWith(rb.vethPrefix)) tryRun("ip", ["link", "del", name]);
  }
  if (linkExists(rb.bridge)) tryRun("ip", ["link", "del", rb.bridge]);
  fs.rmSync(ROLLOUT_RUN, { recursive: true, force: true });
  fs.rmSync(ROLLOUT_STATE, { recursive: true, force: true });
  fs.rmSync(ROLLOUT_MANIFEST, { force: true });
}

function rolloutBenchChecks(m, home = m.home) {
  const want = ROLLOUT_BENCH.hosts.map((h) => `${h.name}@${h.address}`).join(",");
  if (m.version !== MANIFEST_VERSION || m.home !== home || m.hosts.map((h) => `${h.name}@${h.address}`).join(",") !== want || !fs.existsSync(m.ssh.keyPath)) {
    return [{ ns: "rollout-bench-manifest", host: "0.0.0.0", port: 0, what: "manifest out of date" }];
  }
  return m.hosts.flatMap((h) => [
    { ns: h.namespace, host: h.address, port: 22, what: `${h.name} ssh` },
    { ns: h.namespace, host: h.address, port: 25, what: `${h.name} smtp` },
  ]);
}

// ---------------------------------------------------------------------------------------------
// status

async function checkManifest(file, endpointsOf) {
  if (!fs.existsSync(file)) return { ok: false, problems: [`${path.relative(REPO_DIR, file)} missing`] };
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  const present = new Set(namespaces(""));
  const problems = [];
  const checks = endpointsOf(manifest);
  for (const ns of new Set(checks.map((c) => c.ns))) if (!present.has(ns)) problems.push(`namespace ${ns} missing`);
  const results = await Promise.all(checks.map((c) => tcpOpen(c.host, c.port, 1000)));
  checks.forEach((c, i) => {
    if (!results[i]) problems.push(`${c.what} ${c.host}:${c.port} not listening`);
  });
  return { ok: problems.length === 0, problems, manifest, checked: checks.length };
}

function normalChecks(m) {
  if (m.version !== MANIFEST_VERSION) return [{ ns: "manifest-version", host: "0.0.0.0", port: 0, what: "manifest version" }];
  return m.hosts.flatMap((h) => [
    { ns: h.namespace, host: h.address, port: 22, what: `${h.name} ssh` },
    ...h.endpoints.map((e) => ({ ns: h.namespace, host: h.address, port: e.port, what: `${h.name} ${e.service}` })),
  ]);
}

/** `layout`: the layout wanted (a manifest of the other one is out of date); null takes either. */
function benchChecks(m, layout = null) {
  if (layout !== null && (m.layout ?? "one-server") !== layout) return [{ ns: "bench-manifest", host: "0.0.0.0", port: 0, what: `layout ${m.layout ?? "one-server"}, not ${layout}` }];
  const ends = [m.addresses[0], m.addresses.at(-1)];
  return ends.flatMap((host) => [443, 25, ...Object.keys(BENCH.delayedPorts).map(Number)].map((port) => ({ ns: m.namespace, host, port, what: "bench" })));
}

/** True when the manifest lists exactly the hosts this checkout defines (peers added later count). */
function manifestCurrent(manifest) {
  const want = allHosts().map((h) => `${h.name}@${h.address}`).sort().join(",");
  const have = manifest.hosts.map((h) => `${h.name}@${h.address}`).sort().join(",");
  return want === have;
}

async function status({ json, quiet }) {
  const normal = await checkManifest(MANIFEST, normalChecks);
  if (normal.ok && !manifestCurrent(normal.manifest)) {
    normal.ok = false;
    normal.problems.push("host list changed since `up` (new peers or hosts): run `up` again");
  }
  const bench = fs.existsSync(BENCH_MANIFEST) || labNamespaces().includes(BENCH_NS) ? await checkManifest(BENCH_MANIFEST, benchChecks) : null;
  const rollout = fs.existsSync(ROLLOUT_MANIFEST) || namespaces(ROLLOUT_BENCH.namespacePrefix).length > 0 ? await checkManifest(ROLLOUT_MANIFEST, rolloutBenchChecks) : null;
  if (json) {
    process.stdout.write(`${JSON.stringify({ normal: { ok: normal.ok, problems: normal.problems }, bench: bench && { ok: bench.ok, problems: bench.problems }, rolloutBench: rollout && { ok: rollout.ok, problems: rollout.problems } }, null, 2)}\n`);
  } else if (!quiet) {
    if (normal.ok) {
      process.stdout.write(`lab: up (${normal.manifest.hosts.length} hosts, ${normal.checked} ports listening), since ${normal.manifest.createdAt}\n`);
      for (const h of normal.manifest.hosts) {
        const eps = h.endpoints.map((e) => `${e.port}/${e.service}=${e.expectedVerdict}`).join(" ");
        process.stdout.write(`  ${h.name.padEnd(28)} ${h.address.padEnd(13)} ${h.roles.join(",").padEnd(8)} ${eps}\n`);
      }
      process.stdout.write(`ssh: ssh -F ${SSH_CONFIG} <host> <command>\n`);
    } else {
      process.stdout.write(`lab: not up\n${normal.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    }
    if (bench) process.stdout.write(bench.ok ? `bench: up (${bench.manifest.endpoints.length} endpoints)\n` : `bench: broken\n${bench.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    if (rollout) process.stdout.write(rollout.ok ? `rollout bench: up (${rollout.manifest.hosts.length} Postfix hosts)\n` : `rollout bench: broken\n${rollout.problems.map((p) => `  - ${p}`).join("\n")}\n`);
  }
  return normal.ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------

function preflight() {
  if (process.getuid() !== 0) throw new Error("the lab needs root (network namespaces, daemons on port 25)");
  const missing = ["/usr/sbin/postfix", "/usr/sbin/nginx", "/usr/sbin/dovecot", "/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/openssl", "/usr/sbin/ip"].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(", ")}: apt-get install postfix nginx-light dovecot-imapd dovecot-pop3d openssh-server openssl iproute2 (DEBIAN_FRONTEND=noninteractive, as .ci/run does)`);
  }
}

const USAGE = `usage: lab.sh up [--bench [--distinct-servers]] [--force] | down | bench-up [--distinct-servers] [--force] | bench-down | rollout-bench-up [--shared-home] [--force] | rollout-bench-down | status [--json|--quiet] | restart
  up          build the normal lab (no-op when it is already healthy; --force rebuilds it)
  up --bench  the same plus the bench layout (250 addresses, 500 endpoints, delay relay)
  bench-up    only the bench layout;  bench-down removes it
              --distinct-servers (also with up --bench): every Postfix address greets with its own
              name (250 servers, not one); without it the one-server layout (rebuilt if the other is up)
  rollout-bench-up    50 Postfix hosts with sshd (198.18.3.1-50; no-op when healthy); rollout-bench-down removes them
                      --shared-home: the hosts' root sessions use this machine's /root (its ~/.bashrc) instead of a home of their own
  down        kill every lab daemon, remove namespaces, links and ${path.relative(REPO_DIR, STATE)} (not the rollout bench)
  status      exit 0 when every host and port of the manifest answers`;

/** Builds a layout unless its manifest says it is up and answering (`--force` rebuilds it anyway). */
async function upUnlessHealthy(what, manifest, checks, build, flags) {
  if (!flags.has("--force") && (await checkManifest(manifest, checks)).ok) log(`${what} already up`);
  else await build();
}

/** bench-up [--distinct-servers]: rebuilds the bench when the other layout is up. */
function upBenchUnlessHealthy(flags) {
  const layout = flags.has("--distinct-servers") ? "distinct-servers" : "one-server";
  return upUnlessHealthy(`bench (${layout})`, BENCH_MANIFEST, (m) => benchChecks(m, layout), () => upBench(layout), flags);
}

async function main(argv) {
  const [cmd, ...rest] = argv;
  const flags = new Set(rest);
  switch (cmd) {
    case "up": {
      preflight();
      const healthy = !flags.has("--force") && (await status({ quiet: true })) === 0;
      if (healthy) log("lab already up (use `up --force` to rebuild)");
      else await upNormal();
      if (flags.has("--bench")) await upBenchUnlessHealthy(flags);
      return 0;
    }
    case "restart":
      preflight();
      await upNormal();
      return 0;
    case "bench-up":
      preflight();
      await upBenchUnlessHealthy(flags);
      return 0;
    case "bench-down":
      preflight();
      await teardownBench();
      log("bench down");
      return 0;
    case "rollout-bench-up": {
      preflight();
      const ownHome = !flags.has("--shared-home");
      await upUnlessHealthy("rollout bench", ROLLOUT_MANIFEST, (m) => rolloutBenchChecks(m, ownHome ? "own" : "shared"), () => upRolloutBench({ ownHome }), flags);
      return 0;
    }
    case "rollout-bench-down":
      preflight();
      await teardownRolloutBench();
      log("rollout bench down");
      return 0;
    case "down": {
      preflight();
      await teardownBench();
      await teardownNormal({ keepState: false });
      // The rollout bench outlives `down` (only rollout-bench-down removes it): keep its entries.
      for (const dir of [STATE, RUN]) {
        for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) if (!ROLLOUT_ENTRIES.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
        if (fs.existsSync(dir) && fs.readdirSync(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true });
      }
      log("lab down");
      return 0;
    }
    case "status":
      return status({ json: flags.has("--json"), quiet: flags.has("--quiet") });
    default:
      process.stderr.write(`${USAGE}\n`);
      return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

// `lab.sh status | head` closes our stdout early: that is not an error.
process.stdout.on("error", (err) => {
  if (err.code !== "EPIPE") throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`[lab] error: ${err.message}\n`);
    process.exitCode = 1;
  },
);
