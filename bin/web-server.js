#!/usr/bin/env node
// The web process `tlsfleet start` runs: Next's request handler behind node:http, so that the
// app can know the TCP peer of each request. Next itself only fills X-Forwarded-For in when the
// client did not send one, so under a bare `next start` a client chooses its own address. Here
// every request gets the header x-tlsfleet-peer = "<key> <socket address>", overwriting anything
// the client sent, with a random key made per process and handed to the app (same process) as
// TLSFLEET_PEER_KEY (lib/auth/client-address.ts checks it).
//
// Listens on PORT, on LISTEN_HOST (comma separated, e.g. "127.0.0.1,::1"; unset: every interface).
"use strict";
const http = require("node:http");
const path = require("node:path");
const { randomBytes } = require("node:crypto");

const ROOT = path.resolve(__dirname, "..");
const PEER_HEADER = "x-tlsfleet-peer";
const peerKey = randomBytes(18).toString("base64url");
process.env.TLSFLEET_PEER_KEY = peerKey;

const port = Number(process.env.PORT || 3000);
const hosts = (process.env.LISTEN_HOST || "").split(",").map((h) => h.trim()).filter(Boolean);

async function main() {
  const next = require("next");
  const app = next({ dev: false, dir: ROOT, port, hostname: hosts[0] || "localhost" });
  await app.prepare();
  const handle = app.getRequestHandler();
  const onRequest = (req, res) => {
    req.headers[PEER_HEADER] = `${peerKey} ${req.socket.remoteAddress || "unknown"}`;
    handle(req, res).catch((err) => {
      console.error("tlsfleet web: request failed", err);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  };
  const servers = (hosts.length ? hosts : [undefined]).map(
    (host) =>
      new Promise((resolve, reject) => {
        const server = http.createServer(onRequest);
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
      }),
  );
  const listening = await Promise.all(servers);
  console.log(`tlsfleet web: listening on ${hosts.length ? hosts.map((h) => (h.includes(":") ? `[${h}]:${port}` : `${h}:${port}`)).join(", ") : `every interface, port ${port}`}`);
  const stop = () => {
    for (const s of listening) s.close();
    // Open keep-alive and event-stream connections would hold close() up; the parent waits for exit.
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err) => {
  console.error("tlsfleet web: could not start:", err && err.message ? err.message : err);
  process.exit(1);
});
