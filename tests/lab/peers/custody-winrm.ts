// lab-peer: port=5986 service=https verdict=compliant starttls=not-applicable expect=rejected,rejected,accepted,accepted
// WinRM HTTPS listener stand-in (a test double, not Windows) that records what a client sends,
// for the credential custody tests (tests/integration/host-identity.test.ts): every TCP
// connection, every completed TLS handshake, and every HTTP request with its method, path and
// the scheme of its Authorization header ("Basic", "Negotiate"; null when absent), never the
// header's value. Every request is answered as WinRM answers one it cannot authenticate: 401 with
// `WWW-Authenticate: Negotiate` and `Basic realm="WSMAN"` (Microsoft Learn, "Authentication for
// remote connections": Basic is offered over HTTPS only where enabled). Node's TLS defaults, so
// TLS 1.2 and 1.3 only. The "listening" record carries the certificate's SHA-256 thumbprint.
//   node --import tsx tests/lab/peers/custody-winrm.ts --listen 127.0.0.1:5986 [--record FILE]
import { X509Certificate } from "node:crypto";
import https from "node:https";
import type { Socket } from "node:net";
import { listenAndAnnounce, parsePeerArguments, peerRecorder, selfSignedCertificate } from "./common";

const args = parsePeerArguments();
const record = peerRecorder(args);
const { key, cert } = selfSignedCertificate("peer-custody-winrm.lab.tlsfleet.test");
const certificateSha256 = new X509Certificate(cert).fingerprint256.replace(/:/g, "").toLowerCase();

const server = https.createServer({ key, cert }, (req, res) => {
  const authorization = req.headers.authorization?.trim().split(/\s+/)[0] ?? null;
  record("request", { remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`, method: req.method, path: req.url, authorization });
  req.resume();
  res.writeHead(401, { "WWW-Authenticate": ["Negotiate", 'Basic realm="WSMAN"'], "Content-Length": "0" }).end();
});
// TCP connections too: a client that only reads the certificate may hang up before the server
// side reports the handshake complete.
server.on("connection", (socket: Socket) => record("connection", { remote: `${socket.remoteAddress}:${socket.remotePort}` }));
server.on("secureConnection", (socket) => record("tls-handshake", { remote: `${socket.remoteAddress}:${socket.remotePort}`, protocol: socket.getProtocol() }));
server.on("tlsClientError", () => {});
server.once("listening", () => record("listening", { certificateSha256 }));
listenAndAnnounce(server, args, "custody-winrm");
