#!/usr/bin/env node
// A TCP relay that holds every chunk for --delay ms in each direction (25 ms: +50 ms RTT).
// This kernel has no `tc netem`, so the latency benchmark puts this in front of the servers.
//
//   node delay-relay.mjs --delay 25 --forward 0.0.0.0:10443=local:443 [--forward ...]
//   node delay-relay.mjs --delay 25 --listen 198.18.0.50:25 --target 198.18.0.11:25
//
// Target host "local" means "the address the client connected to", so one wildcard listener in
// a namespace with 250 addresses fronts all 250 servers on that port.
// Order is kept: Node fires timers of equal duration in the order they were set.
import net from "node:net";

function parseArgs(argv) {
  let delay = 25;
  const forwards = [];
  let listen = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--delay") delay = Number(next());
    else if (a === "--forward") {
      const [from, to] = next().split("=");
      forwards.push({ from: splitHostPort(from), to: splitHostPort(to) });
    } else if (a === "--listen") listen = splitHostPort(next());
    else if (a === "--target") {
      if (!listen) throw new Error("--target needs a --listen before it");
      forwards.push({ from: listen, to: splitHostPort(next()) });
      listen = null;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isFinite(delay) || delay < 0) throw new Error("--delay must be a number of ms >= 0");
  if (forwards.length === 0) throw new Error("nothing to relay: give --forward FROM=TO or --listen ADDR:PORT --target ADDR:PORT");
  return { delay, forwards };
}

function splitHostPort(s) {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad HOST:PORT ${s}`);
  return { host: s.slice(0, i), port };
}

const HIGH_WATER = 1 << 20;

/** Copies `from` to `to`, every chunk and the final FIN held back `delay` ms. */
function pipeDelayed(from, to, delay, peerGone) {
  let queued = 0;
  from.on("data", (chunk) => {
    queued += chunk.length;
    if (queued > HIGH_WATER) from.pause();
    setTimeout(() => {
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
      if (queued <= HIGH_WATER && from.isPaused()) from.resume();
    }, delay);
  });
  from.on("end", () => setTimeout(() => !to.destroyed && to.end(), delay));
  // A reset or error on one side reaches the other side after the same delay as data would.
  from.on("error", () => setTimeout(() => peerGone(), delay));
}

function serve({ delay, forwards }) {
  for (const { from, to } of forwards) {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      const host = to.host === "local" ? client.localAddress : to.host;
      const upstream = net.connect({ host, port: to.port, allowHalfOpen: true, noDelay: true });
      client.setNoDelay(true);
      const closeBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      pipeDelayed(client, upstream, delay, closeBoth);
      pipeDelayed(upstream, client, delay, closeBoth);
      // Once both directions have finished, nothing is left to relay.
      let closed = 0;
      const onClose = () => {
        if (++closed === 2) closeBoth();
        else setTimeout(closeBoth, delay * 2 + 1000).unref();
      };
      client.on("close", onClose);
      upstream.on("close", onClose);
    });
    server.on("error", (err) => {
      process.stderr.write(`delay-relay: ${from.host}:${from.port}: ${err.message}\n`);
      process.exit(1);
    });
    server.listen({ host: from.host, port: from.port, backlog: 1024 }, () => {
      process.stderr.write(`delay-relay: ${from.host}:${from.port} -> ${to.host}:${to.port}, ${delay} ms each way\n`);
    });
  }
}

try {
  serve(parseArgs(process.argv.slice(2)));
} catch (err) {
  process.stderr.write(`delay-relay: ${err.message}\n`);
  process.exit(2);
}
process.on("SIGTERM", () => process.exit(0));
