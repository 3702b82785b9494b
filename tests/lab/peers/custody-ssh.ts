// lab-peer: port=2222 service=tls verdict=error starttls=not-applicable expect=unknown,unknown,unknown,unknown
// SSH server (ssh2's Server, a test double, not OpenSSH) that records what a client sends, for
// the credential custody tests (tests/integration/host-identity.test.ts): every TCP connection,
// every completed key exchange, and every USERAUTH_REQUEST (RFC 4252 section 5: ssh2 emits one
// "authentication" event per request) with its method and user name and whether a password or a
// public-key signature came with it, never the secret itself. It accepts every password or key
// login (a client that authenticates gets through) and refuses every channel, so nothing runs. Its host key is
// made by OpenSSH's ssh-keygen at start; the "listening" record carries its fingerprint as
// `ssh-keygen -l` prints it. Not TLS: the prober sees an SSH banner, so every version is unknown.
//   node --import tsx tests/lab/peers/custody-ssh.ts --listen 127.0.0.1:2222 [--record FILE]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Server as SshServer } from "ssh2";
import { listenAndAnnounce, parsePeerArguments, peerRecorder } from "./common";

const args = parsePeerArguments();
const record = peerRecorder(args);

function opensshHostKey(): { pem: string; fingerprint: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "custody-ssh-"));
  try {
    const file = path.join(dir, "host_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "custody-ssh", "-f", file], { stdio: "ignore" });
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], { encoding: "utf8" }).split(" ")[1]!;
    return { pem: readFileSync(file, "utf8"), fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const key = opensshHostKey();
const ssh = new SshServer({ hostKeys: [key.pem] }, (client, info) => {
  const remote = `${info.ip}:${info.port}`;
  client.on("error", () => {});
  client.on("handshake", () => record("handshake", { remote }));
  client.on("authentication", (ctx) => {
    const secretPresented = ctx.method === "password" ? typeof ctx.password === "string" : ctx.method === "publickey" ? Boolean(ctx.signature) : false;
    record("userauth", { remote, method: ctx.method, username: ctx.username, secretPresented });
    // As OpenSSH with password and key logins on: "none" (a client asking what it may use,
    // RFC 4252 5.2) is refused with the methods that can continue; anything else gets through.
    if (ctx.method === "password" || ctx.method === "publickey") ctx.accept();
    else ctx.reject(["publickey", "password"]);
  });
  client.on("ready", () => client.on("session", (_accept, reject) => reject()));
});

// The TCP listener is ours, so a connection is recorded even when no SSH identification follows.
const server = createServer((socket) => {
  record("connection", { remote: `${socket.remoteAddress}:${socket.remotePort}` });
  ssh.injectSocket(socket);
});
server.once("listening", () => record("listening", { hostKeyFingerprint: key.fingerprint }));
listenAndAnnounce(server, args, "custody-ssh");
