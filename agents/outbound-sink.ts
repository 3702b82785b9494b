// The worker's outbound check sink: started when TLSFLEET_OUTBOUND_SINK_LISTEN is set, every
// connection stored for the outbound check tasks (whichever worker runs them). Its certificate
// is self-signed and made at start (openssl): mail clients that use opportunistic TLS, as
// Postfix's "may" and Exchange's default send connector do, do not check it, and the check is
// about protocol versions, not trust.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { env } from "../lib/env";
import { logger } from "../lib/log";
import { storeObservation } from "../lib/outbound/observations";
import { startOutboundSink, type RunningSink } from "../lib/outbound/sink";

function ephemeralCertificate(name: string): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), "tlsfleet-sink-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${name}/O=tlsfleet outbound check`], { stdio: ["ignore", "ignore", "pipe"] });
    return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the sink when configured; null when not. */
export async function startConfiguredSink(): Promise<RunningSink | null> {
  const listen = env.TLSFLEET_OUTBOUND_SINK_LISTEN;
  if (!listen) return null;
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`TLSFLEET_OUTBOUND_SINK_LISTEN must be address:port, e.g. 198.18.0.1:25 (got "${listen}")`);
  const sink = await startOutboundSink({
    host,
    port,
    certificate: ephemeralCertificate("tlsfleet-outbound-check"),
    onRecord: (record) => void storeObservation(record).catch((err: unknown) => logger.error({ err, client: record.client }, "could not store an outbound check connection")),
  });
  logger.info({ address: sink.address, port: sink.port }, "outbound check sink listening");
  return sink;
}
