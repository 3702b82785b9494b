#!/usr/bin/env node
// A legacy HTTPS endpoint on loopback for `bench:ui --under-load`: TLS 1.0 to 1.3 (OpenSSL security
// level 0, as an old server is configured), ends every connection after its handshake. Prints
// "tls-target listening PORT" once it accepts connections.
//
//   node tls-target.mjs CERT_FILE KEY_FILE
import fs from "node:fs";
import tls from "node:tls";

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) {
  process.stderr.write("usage: tls-target.mjs CERT_FILE KEY_FILE\n");
  process.exit(2);
}
const server = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" }, (socket) => socket.end());
// Probes abort handshakes on purpose (hello mode reads the first flight and goes): not an error here.
server.on("tlsClientError", () => {});
server.listen({ host: "127.0.0.1", port: 0, backlog: 1024 }, () => {
  process.stdout.write(`tls-target listening ${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
