// A mail server that accepts the TCP connection and never says anything: the prober must call
// it unreachable after its greeting timeout, without waiting any longer, and never "rejected".
//   node --import tsx tests/lab/peers/never-greets.ts --listen 127.0.0.1:2525
import { createServer, type Socket } from "node:net";
import { listenAndAnnounce, parsePeerArguments } from "./common";

const args = parsePeerArguments();
const open = new Set<Socket>();
const server = createServer((socket) => {
  open.add(socket);
  socket.on("error", () => {});
  socket.on("close", () => open.delete(socket));
  // Read and discard: a client that talks first gets no reaction either (postscreen would hang up).
  socket.resume();
});
listenAndAnnounce(server, args, "never-greets");
process.once("SIGTERM", () => open.forEach((s) => s.destroy()));
