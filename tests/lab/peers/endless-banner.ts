// An SMTP "greeting" that never ends: "220-" lines (or, with --no-newlines, one line without
// end) as fast as the client reads, up to --megabytes (default 10) per connection. The prober
// must stop reading at its pre-TLS cap and not buffer the rest.
//   node --import tsx tests/lab/peers/endless-banner.ts --listen 127.0.0.1:2526 [--no-newlines]
import { createServer } from "node:net";
import { listenAndAnnounce, numberOption, parsePeerArguments } from "./common";

const args = parsePeerArguments();
const limit = numberOption(args, "megabytes", 10) * 1024 * 1024;
const line = args.flags.has("no-newlines") ? "x".repeat(1024) : `220-${"banner ".repeat(144)}\r\n`;
const chunk = Buffer.from(line.repeat(Math.ceil(16384 / line.length)), "latin1");

const server = createServer((socket) => {
  socket.on("error", () => {});
  socket.resume();
  let sent = 0;
  const pump = () => {
    while (sent < limit && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) return; // wait for 'drain': the banner is endless, our memory is not
    }
    if (sent >= limit) socket.end();
  };
  socket.on("drain", pump);
  pump();
});
listenAndAnnounce(server, args, "endless-banner");
