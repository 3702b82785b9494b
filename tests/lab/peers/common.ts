// Shared plumbing for the misbehaving peers: argument parsing, a throwaway certificate, and the
// "listening ADDR:PORT" line that tells a test (or a person) where the peer is.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface PeerArguments {
  host: string;
  port: number;
  options: Map<string, string>;
  flags: Set<string>;
}

/** `--listen ADDR:PORT` (port 0 picks a free one) plus `--name value` options and bare `--flags`. */
export function parsePeerArguments(argv: string[] = process.argv.slice(2)): PeerArguments {
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument '${arg}'`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      options.set(arg.slice(2), next);
      i++;
    } else {
      flags.add(arg.slice(2));
    }
  }
  const listen = options.get("listen") ?? "127.0.0.1:0";
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(listen);
  if (!match) throw new Error(`--listen expects ADDR:PORT, got '${listen}'`);
  return { host: match[1]!, port: Number(match[2]), options, flags };
}

export function numberOption(args: PeerArguments, name: string, fallback: number): number {
  const text = args.options.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`--${name} expects a number, got '${text}'`);
  return value;
}

/** Listens, prints "listening ADDR:PORT" on stdout, and closes cleanly on SIGTERM/SIGINT. */
export function listenAndAnnounce(server: Server, args: PeerArguments, name: string): void {
  server.on("error", (error) => {
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen(args.port, args.host, () => {
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    process.stdout.write(`listening ${host}:${address.port}\n`);
  });
  const shutdown = () => {
    server.close();
    // Peers that hold connections open on purpose would otherwise keep the process alive.
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

export interface PeerCertificate {
  key: Buffer;
  cert: Buffer;
}

/**
 * A fresh self-signed certificate from the openssl CLI (Debian's, present on every machine of
 * this project), valid for two days, for CN=peer.lab and 127.0.0.1 / ::1.
 */
export function selfSignedCertificate(commonName = "peer.lab"): PeerCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), "tlsfleet-peer-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", keyFile, "-out", certFile,
        "-subj", `/CN=${commonName}/O=tlsfleet lab`,
        "-addext", `subjectAltName=DNS:${commonName},IP:127.0.0.1,IP:::1`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `--record FILE` (the lab passes `hosts/peer-NAME/logs/records.jsonl`): one JSON line per thing
 * the peer saw, for tests that must prove what a client did or did not send. Never the secrets
 * themselves, only whether one was presented. Without --record nothing is written.
 */
export function peerRecorder(args: PeerArguments): (event: string, details?: Record<string, unknown>) => void {
  const file = args.options.get("record");
  return (event, details = {}) => {
    if (file) appendFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), event, ...details })}\n`);
  };
}
