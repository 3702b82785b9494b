// Implicit-TLS port whose "server" answers the ClientHello with bytes that are not TLS
// (--reply http, the default: an HTTP 400; --reply binary: a TLS-looking record header followed
// by nonsense), then closes. Outcome must be "unknown" (garbage), never "rejected".
//   node --import tsx tests/lab/peers/garbage-after-hello.ts --listen 127.0.0.1:4433 [--reply binary]
import { createServer } from "node:net";
import { listenAndAnnounce, parsePeerArguments } from "./common";

const args = parsePeerArguments();
const reply =
  args.options.get("reply") === "binary"
    ? Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00])
    : Buffer.from("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "latin1");

const server = createServer((socket) => {
  socket.on("error", () => {});
  socket.once("data", () => socket.end(reply));
});
listenAndAnnounce(server, args, "garbage-after-hello");
