// TEST DOUBLE: Windows OpenSSH Server (built into Windows Server 2019+) with its default shell,
// cmd.exe: an exec request's command string is run as `cmd.exe /c <command>`. Public-key
// authentication only, against an authorized_keys file.

import { readFileSync } from "node:fs";
import ssh2 from "ssh2";
import { consoleStreams } from "./locale";
import type { WindowsMachine } from "./machine";
import { close, listen, OpenConnections } from "./listener";
import { EmulatedProcess } from "./programs";

const { Server, utils } = ssh2;

export interface SshServerOptions {
  machine: WindowsMachine;
  host: string;
  port: number;
  hostKeyPem: string;
  authorizedKeysFile: string;
  user: string;
}

export class SshServer {
  private server: InstanceType<typeof Server> | null = null;
  private readonly clients = new OpenConnections<ssh2.Connection>((c) => c.end());
  port: number;

  constructor(private readonly opts: SshServerOptions) {
    this.port = opts.port;
  }

  private authorizedKeys(): ssh2.ParsedKey[] {
    return readFileSync(this.opts.authorizedKeysFile, "utf8")
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "" && !l.startsWith("#"))
      .map((l) => utils.parseKey(l))
      .filter((k): k is ssh2.ParsedKey => !(k instanceof Error));
  }

  async start(): Promise<void> {
    const m = this.opts.machine;
    const server = new Server({ hostKeys: [this.opts.hostKeyPem], ident: "OpenSSH_for_Windows_9.5" }, (client) => {
      if (!m.up) return void client.end();
      this.clients.add(client);
      client.on("error", () => undefined);
      client.on("authentication", (ctx) => {
        if (ctx.method !== "publickey" || ctx.username.toLowerCase() !== this.opts.user.toLowerCase()) {
          if (ctx.method !== "none") m.log({ type: "auth-failure", scheme: `ssh-${ctx.method}`, user: ctx.username });
          return ctx.reject(["publickey"]);
        }
        const key = this.authorizedKeys().find((k) => k.type === ctx.key.algo && k.getPublicSSH().equals(ctx.key.data));
        if (!key) {
          m.log({ type: "auth-failure", scheme: "ssh-publickey", user: ctx.username, reason: "key not authorized" });
          return ctx.reject(["publickey"]);
        }
        if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(["publickey"]);
        ctx.accept();
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          const session = acceptSession();
          session.on("pty", (accept) => accept?.());
          session.on("env", (accept) => accept?.());
          session.on("shell", (_accept, reject) => reject?.());
          session.on("exec", (accept, _reject, info) => {
            const stream = accept();
            const proc = new EmulatedProcess(m, info.command, "ssh");
            stream.on("data", (d: Buffer) => proc.writeStdin(d.toString("utf8"), false));
            stream.on("end", () => proc.writeStdin("", true));
            stream.on("close", () => proc.kill());
            void pump(proc, stream).catch(() => proc.kill());
          });
        });
      });
    });
    this.server = server;
    this.port = await listen(server, this.port, this.opts.host);
  }

  async stop(): Promise<void> {
    this.clients.dropAll();
    const s = this.server;
    this.server = null;
    await close(s);
  }
}

async function pump(proc: EmulatedProcess, stream: ssh2.ServerChannel): Promise<void> {
  const write = (w: NodeJS.WritableStream, b: Buffer) =>
    new Promise<void>((resolve) => {
      if (w.write(b)) resolve();
      else w.once("drain", () => resolve());
    });
  // Windows OpenSSH's cmd.exe writes in the OEM code page: nothing in the SSH session sets another.
  const enc = consoleStreams(proc, proc.machine.locale.oemCodePage);
  for (;;) {
    const o = enc.stdout(proc.stdout.take(64 * 1024));
    const e = enc.stderr(proc.stderr.take(64 * 1024));
    if (o.length > 0) await write(stream, o);
    if (e.length > 0) await write(stream.stderr, e);
    if (o.length === 0 && e.length === 0) {
      if (proc.exitCode !== null) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          proc.stdout.off("data", wake);
          proc.stderr.off("data", wake);
          proc.off("exit", wake);
          resolve();
        };
        proc.stdout.on("data", wake);
        proc.stderr.on("data", wake);
        proc.on("exit", wake);
      });
    }
  }
  stream.exit(proc.exitCode ?? 1);
  stream.end();
}
