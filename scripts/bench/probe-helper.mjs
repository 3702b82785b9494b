#!/usr/bin/env node
// Helpers for scripts/bench/probe.sh (npm run bench:probe):
//   probe-helper.mjs targets BENCH_JSON OUT_DIR    targets files for tlsfleet and argument lines for sslscan
//   probe-helper.mjs check KIND FILE|DIR EXPECTED  counts answers that match the bench servers (JSON line out)
//   probe-helper.mjs report RESULTS_JSONL OUT_MD BENCHMARKS_MD   markdown table, BENCHMARKS.md section
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

const VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
// Issue 12's targets, per path: tlsfleet's endpoints/s over sslscan -P16's, at no more CPU per
// endpoint than sslscan (tool only) on either.
const THROUGHPUT_TARGET = { direct: 2, "50 ms RTT": 12 };
const CPU_TARGET = 1;
// lib/tls/connection-gate.ts DEFAULT_PER_SERVER, and Postfix's smtpd_client_connection_count_limit default (postconf(5)).
const PER_SERVER_CAP = 40;
const POSTFIX_CLIENT_LIMIT = 50;
const SECTION = "## Probe throughput (issue 3)";
const SSLSCAN_FLAGS = [
  "--no-colour", "--no-ciphersuites", "--no-renegotiation", "--no-compression", "--no-heartbleed",
  "--no-groups", "--no-fallback", "--no-check-certificate",
];
// probe.sh reads the flags from here so the table and the run can never disagree.
const STARTTLS = { smtp: "--starttls-smtp", submission: "--starttls-smtp", imap: "--starttls-imap", pop3: "--starttls-pop3" };

/**
 * Mixes ports and addresses (a1:443, a2:25, a3:443, ... then the other port of each) so that
 * neighbouring lines, which run at the same time, go to different addresses: the prober allows
 * 2 connections per address, and a real fleet file is not sorted by port either.
 */
function mixed(endpoints) {
  const byAddress = new Map();
  for (const e of endpoints) {
    if (!byAddress.has(e.address)) byAddress.set(e.address, []);
    byAddress.get(e.address).push(e);
  }
  const lists = [...byAddress.values()];
  const out = [];
  const rounds = Math.max(...lists.map((l) => l.length));
  for (let r = 0; r < rounds; r++) lists.forEach((l, i) => l.length > 0 && out.push(l[(i + r) % l.length]));
  return out;
}

function targets(benchJson, outDir) {
  const bench = JSON.parse(fs.readFileSync(benchJson, "utf8"));
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, list] of [["direct", bench.endpoints], ["delayed", bench.delayedEndpoints]]) {
    const ordered = mixed(list);
    const addresses = new Set(ordered.map((e) => e.address));
    fs.writeFileSync(path.join(outDir, `${name}.targets`), `# ${ordered.length} endpoints on ${addresses.size} addresses (bench layout, ${name})\n${ordered.map((e) => `${e.address}:${e.port} ${e.service}`).join("\n")}\n`);
    const xmlDir = path.join(outDir, `sslscan-${name}`);
    fs.mkdirSync(xmlDir, { recursive: true });
    const lines = ordered.map((e) => [...(STARTTLS[e.service] ? [STARTTLS[e.service]] : []), `--xml=${path.join(xmlDir, `${e.address}_${e.port}.xml`)}`, `${e.address}:${e.port}`].join(" "));
    fs.writeFileSync(path.join(outDir, `${name}.sslscan-args`), `${lines.join("\n")}\n`);
    process.stdout.write(`${name}: ${ordered.length} endpoints, ${addresses.size} addresses\n`);
  }
  fs.writeFileSync(path.join(outDir, "sslscan-flags"), `${SSLSCAN_FLAGS.join(" ")}\n`);
}

/** How many endpoints came back exactly as the bench servers are configured (every version accepted). */
function check(kind, where, expectedVerdict) {
  const summary = { total: 0, matching: 0, problems: {} };
  const note = (why) => (summary.problems[why] = (summary.problems[why] ?? 0) + 1);
  if (kind === "tlsfleet") {
    const lines = fs.readFileSync(where, "utf8").split("\n").filter((l) => l.trim());
    for (const line of lines) {
      summary.total++;
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        note("not JSON");
        continue;
      }
      const all = VERSIONS.every((v) => r.protocols?.[v] === "accepted");
      if (all && r.verdict === expectedVerdict) summary.matching++;
      else note(`${r.verdict}: ${VERSIONS.map((v) => `${v}=${r.protocols?.[v]}${r.reasons?.[v] ? `(${r.reasons[v]})` : ""}`).join(" ")}`);
    }
  } else {
    for (const file of fs.readdirSync(where).filter((f) => f.endsWith(".xml"))) {
      summary.total++;
      const xml = fs.readFileSync(path.join(where, file), "utf8");
      const enabled = Object.fromEntries([...xml.matchAll(/<protocol type="tls" version="([0-9.]+)" enabled="([01])"/g)].map((m) => [m[1], m[2]]));
      if (["1.0", "1.1", "1.2", "1.3"].every((v) => enabled[v] === "1")) summary.matching++;
      else note(/<error><!\[CDATA\[(.*?)\]\]>/s.exec(xml)?.[1]?.replace(/[0-9.]+ port \d+/, "ADDR port N") ?? `enabled ${JSON.stringify(enabled)}`);
    }
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function machineNote() {
  const cpu = fs.readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
  const sslscan = (() => {
    try {
      return execFileSync("sslscan", ["--version"], { encoding: "utf8" }).replace(/\x1b\[[0-9;]*m/g, "").trim().split(/\s+/).filter(Boolean).join(" ");
    } catch {
      return "sslscan ?";
    }
  })();
  return `${os.cpus().length} vCPU (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}, sslscan ${sslscan}`;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One row per path x tool x parallelism: medians over the rounds, and the spread of wall times. */
function aggregate(runs) {
  const groups = new Map();
  for (const r of runs) {
    const key = `${r.path}|${r.tool}|${r.parallel}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  return [...groups.values()].map((rs) => ({
    path: rs[0].path,
    tool: rs[0].tool,
    parallel: rs[0].parallel,
    endpoints: rs[0].endpoints,
    addresses: rs[0].addresses,
    rounds: rs.length,
    wall: median(rs.map((r) => r.wall)),
    wallMin: Math.min(...rs.map((r) => r.wall)),
    wallMax: Math.max(...rs.map((r) => r.wall)),
    cpu: median(rs.map((r) => r.user + r.sys)),
    user: median(rs.map((r) => r.user)),
    sys: median(rs.map((r) => r.sys)),
    busy: median(rs.map((r) => r.machineBusy ?? NaN)),
    serverCpu: median(rs.map((r) => r.serverCpu ?? NaN)),
    load: Math.max(...rs.map((r) => r.load1 ?? NaN)),
    matching: Math.min(...rs.map((r) => r.check.matching)),
    total: rs[0].endpoints,
    problems: rs.flatMap((r) => Object.entries(r.check.problems).map(([k, v]) => `round ${r.round}: ${v} x ${k}`)),
  }));
}

/** The measured reasons behind the ratios, with this run's numbers in them. */
function whyParagraph(groups, fmt, connectionTimes) {
  const pick = (path, tool) => groups.filter((g) => g.path === path && g.tool === tool);
  const span = (gs, f, d = 1) => {
    const values = gs.map(f).filter(Number.isFinite).sort((a, b) => a - b);
    return values.length ? [...new Set(values.map((v) => fmt(v, d)))].join("-") : "n/a";
  };
  const cores = (path, tool) => span(pick(path, tool), (g) => g.cpu / g.wall);
  const serverMs = (path, tool) => span(pick(path, tool), (g) => (g.serverCpu * 1000) / g.endpoints);
  const tools = [...new Set(groups.map((g) => g.tool))].filter((t) => t.startsWith("tlsfleet"));
  return [
    "Why, as far as measured: sslscan 2.0.7 opens 7 connections per endpoint (a TCP check, SSLv2, SSLv3, TLS 1.0, 1.1, 1.2, 1.3; counted through a logging relay) and drops each as soon as the server's first flight arrives, never finishing a handshake. Its TLS 1.0-1.2 hellos list 344 suites in numeric order, so a server that follows the client's order (both bench servers do) picks AES128-SHA, plain RSA key exchange, and signs nothing; only its TLS 1.3 hello costs the server a signature.",
    `\`--mode full\` finishes a handshake for every version (${connectionsText(connectionTimes, "full")} per endpoint here). \`--mode hello\` sends a TLS 1.2 hello first (plain RSA first, no supported_versions) and reads its flight on to the Certificate message, which is in clear up to TLS 1.2: the certificate without a finished handshake; the downgrade sentinel in that ServerHello (RFC 8446 4.1.3) settles TLS 1.3 without a connection; then hellos for 1.0 and 1.1: ${connectionsText(connectionTimes, "hello")} per endpoint here, none finished.`,
    ...["direct", "50 ms RTT"].map((p) => `Servers' CPU per endpoint (the bench namespace: nginx, Postfix with its smtpd processes, the relay), ${p}: sslscan ${serverMs(p, "sslscan")} ms, ${tools.map((t) => `${t} ${serverMs(p, t)} ms`).join(", ")}.`),
    `"cores used" is the tool's CPU seconds over wall seconds. tlsfleet is one Node process, so one core at most: on the direct path it used ${tools.map((t) => `${cores("direct", t)} (${t.replace("tlsfleet ", "")})`).join(", ")} of a core, against ${cores("direct", "sslscan")} for 16 sslscan processes, and the servers run on the same 2 cores as both tools.`,
    `Through the 50 ms RTT relay the network, not the CPU, sets the pace: tlsfleet's concurrency overlaps the round trips and 16 sslscan processes cannot (sslscan used ${cores("50 ms RTT", "sslscan")} of a core there).`,
  ].join(" ");
}

/** "3 connections (https), 3 (smtp)" from connection-time.ts's counts, or "n/a". */
function connectionsText(connectionTimes, mode) {
  const direct = connectionTimes.find((c) => c.path === "direct") ?? connectionTimes[0];
  if (!direct) return "n/a connections";
  const parts = Object.entries(direct).filter(([k]) => k.startsWith(`${mode} `)).map(([k, v]) => `${v.connections} (${k.slice(mode.length + 1)})`);
  return parts.length ? `${parts.join(", ")} connections` : "n/a connections";
}

/**
 * What bounds each path's number, from this run's measurements. 50 ms RTT: one Postfix answers
 * for every Postfix address, so its connections queue behind one per-server budget, each held for
 * TCP + greeting + EHLO + STARTTLS + hello (about 4.5 RTT) plus the close; direct: the CPU of tool
 * and servers per endpoint over the 2 cores.
 */
function boundsParagraph(groups, fmt, connectionTimes, delayedTargets) {
  const lines = [];
  const slow = connectionTimes.find((c) => c.path === "50 ms RTT");
  const scanSlow = groups.find((g) => g.path === "50 ms RTT" && g.tool === "sslscan");
  const postfix = delayedTargets.filter((l) => / smtp$/.test(l)).length;
  const helloSmtp = slow?.["hello smtp"];
  if (helloSmtp && scanSlow && postfix > 0) {
    const floor = (budget) => (postfix * helloSmtp.connections * helloSmtp.msPerConnection) / 1000 / budget;
    const bestSlow = groups.filter((g) => g.path === "50 ms RTT" && g.tool === "tlsfleet --mode hello").reduce((a, b) => (!a || b.wall < a.wall ? b : a), null);
    lines.push(
      `50 ms RTT bound: the ${postfix} Postfix endpoints are one Postfix (one greeting name), which takes ${POSTFIX_CLIENT_LIMIT} connections per client (smtpd_client_connection_count_limit) and to which tlsfleet's gate allows ${PER_SERVER_CAP} at once. One hello-mode connection to it, one at a time, took ${helloSmtp.msPerConnection} ms (median of ${slow.rounds} endpoints, ${helloSmtp.range[0]}-${helloSmtp.range[1]} ms; TCP + greeting + EHLO + STARTTLS + hello is about 4.5 RTT = 225 ms, plus the close), and an endpoint takes ${helloSmtp.connections}. The Postfix half alone therefore needs at least ${postfix} x ${helloSmtp.connections} x ${fmt(helloSmtp.msPerConnection / 1000, 3)} s / ${PER_SERVER_CAP} = ${fmt(floor(PER_SERVER_CAP))} s (${fmt(floor(POSTFIX_CLIENT_LIMIT))} s at Postfix's own limit of ${POSTFIX_CLIENT_LIMIT}), so against sslscan's ${fmt(scanSlow.wall)} s no run can beat ${fmt(scanSlow.wall / floor(PER_SERVER_CAP))}x (${fmt(scanSlow.wall / floor(POSTFIX_CLIENT_LIMIT))}x at ${POSTFIX_CLIENT_LIMIT})` +
        (bestSlow ? `; the best hello run took ${fmt(bestSlow.wall)} s, ${fmt(bestSlow.wall / floor(PER_SERVER_CAP))}x that floor.` : "."),
    );
  }
  const scan = groups.find((g) => g.path === "direct" && g.tool === "sslscan");
  const ours = groups.filter((g) => g.path === "direct" && g.tool === "tlsfleet --mode hello");
  if (scan && ours.length > 0 && Number.isFinite(scan.serverCpu)) {
    const best = ours.reduce((a, b) => (b.wall < a.wall ? b : a));
    const perEndpoint = (g) => (g.cpu + g.serverCpu) / g.endpoints;
    const floor = (g) => (perEndpoint(g) * g.endpoints) / 2;
    lines.push(
      `Direct bound: tool plus servers spend ${fmt(perEndpoint(best) * 1000, 1)} ms of CPU per endpoint with tlsfleet hello (${fmt((best.cpu * 1000) / best.endpoints, 2)} tool + ${fmt((best.serverCpu * 1000) / best.endpoints, 2)} servers) and ${fmt(perEndpoint(scan) * 1000, 1)} ms with sslscan (${fmt((scan.cpu * 1000) / scan.endpoints, 2)} + ${fmt((scan.serverCpu * 1000) / scan.endpoints, 2)}); over the 2 cores that is at least ${fmt(floor(best))} s for ${best.endpoints} endpoints with tlsfleet (it took ${fmt(best.wall)} s) and ${fmt(floor(scan))} s with sslscan (it took ${fmt(scan.wall)} s), so the CPU allows at most ${fmt(scan.wall / floor(best))}x against this sslscan run, ${fmt(perEndpoint(scan) / perEndpoint(best))}x if both used the 2 cores fully.`,
    );
  }
  return lines.length ? `What bounds the numbers. ${lines.join(" ")}` : "";
}

/**
 * The frank summary: the best tlsfleet run per path against the targets, and on the direct path
 * the ceiling that the 2 shared cores put on any speed-up (CPU of tool plus servers per endpoint).
 */
function standing(groups, fmt) {
  const lines = [];
  for (const path of [...new Set(groups.map((g) => g.path))]) {
    const scan = groups.find((g) => g.path === path && g.tool === "sslscan");
    const ours = groups.filter((g) => g.path === path && g.tool.startsWith("tlsfleet"));
    if (!scan || ours.length === 0) continue;
    const rate = (g) => g.endpoints / g.wall;
    const best = ours.reduce((a, b) => (rate(b) > rate(a) ? b : a));
    const thr = rate(best) / rate(scan);
    const cpuPer = best.cpu / best.endpoints / (scan.cpu / scan.endpoints);
    const target = THROUGHPUT_TARGET[path] ?? 2;
    let line = `${path}: the best tlsfleet run (${best.tool}, ${best.parallel}) reaches ${fmt(thr)}x sslscan's throughput, ${thr >= target ? "meeting" : "missing"} the ${target}x target, at ${fmt(cpuPer)}x its CPU per endpoint (${cpuPer <= CPU_TARGET ? "within" : "over"} ${CPU_TARGET}x).`;
    if (path === "direct" && Number.isFinite(best.serverCpu) && Number.isFinite(scan.serverCpu)) {
      const machine = (g) => (g.cpu + g.serverCpu) / g.endpoints;
      line += ` Tool and servers together spend ${fmt(machine(best) * 1000, 1)} ms of CPU per endpoint with tlsfleet against ${fmt(machine(scan) * 1000, 1)} ms with sslscan; with both runs using the whole of the 2 shared cores, that ratio (${fmt(machine(scan) / machine(best))}x) is about the most any tlsfleet speed-up can reach on this machine, whatever its own parallelism.`;
    }
    lines.push(line);
  }
  return lines.length ? `Where it stands. ${lines.join(" ")}` : "";
}

function report(resultsFile, outMd, benchmarksMd) {
  const rows = fs.readFileSync(resultsFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const meta = rows.find((r) => r.meta)?.meta ?? {};
  const runs = rows.filter((r) => !r.meta && !r.connectionTime);
  const connectionTimes = rows.filter((r) => r.connectionTime).map((r) => r.connectionTime);
  const delayedFile = path.join(path.dirname(resultsFile), "delayed.targets");
  const delayedTargets = fs.existsSync(delayedFile) ? fs.readFileSync(delayedFile, "utf8").split("\n").filter((l) => l && !l.startsWith("#")) : [];
  // A run that did not produce one answer per endpoint measured something else: never publish it.
  const invalid = runs.filter((r) => r.check.total !== r.endpoints);
  const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
  const groups = aggregate(runs);
  const table = [
    "| path | tool | parallelism | endpoints (addresses) | wall s, median (min-max) | endpoints/s | CPU s user+sys | CPU ms / endpoint | cores used | servers' CPU s | answers as configured | machine busy / load |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const g of groups) {
    table.push(`| ${g.path} | ${g.tool} | ${g.parallel} | ${g.endpoints} (${g.addresses}) | ${fmt(g.wall)} (${fmt(g.wallMin)}-${fmt(g.wallMax)}) | ${fmt(g.endpoints / g.wall, 1)} | ${fmt(g.cpu)} (${fmt(g.user)}+${fmt(g.sys)}) | ${fmt((g.cpu * 1000) / g.endpoints)} | ${fmt(g.cpu / g.wall)} | ${fmt(g.serverCpu)} | ${g.matching}/${g.total} | ${fmt(g.busy, 0)}% / ${fmt(g.load, 1)} |`);
  }
  const ratios = [];
  for (const pathName of [...new Set(groups.map((g) => g.path))]) {
    const scan = groups.find((g) => g.path === pathName && g.tool === "sslscan");
    if (!scan) continue;
    for (const t of groups.filter((g) => g.path === pathName && g.tool.startsWith("tlsfleet"))) {
      const thr = t.endpoints / t.wall / (scan.endpoints / scan.wall);
      const cpuPer = t.cpu / t.endpoints / (scan.cpu / scan.endpoints);
      const target = THROUGHPUT_TARGET[pathName] ?? 2;
      ratios.push(`| ${pathName} | ${t.tool.replace("tlsfleet ", "")} | ${t.parallel} | ${fmt(thr)}x ${thr >= target ? `(meets >= ${target}x)` : `(misses >= ${target}x)`} | ${fmt(cpuPer)}x ${cpuPer <= CPU_TARGET ? `(meets <= ${CPU_TARGET}x)` : `(misses <= ${CPU_TARGET}x)`} |`);
    }
  }
  const problems = groups.filter((g) => g.problems.length > 0).map((g) => `- ${g.path} ${g.tool} ${g.parallel}: ${g.problems.join("; ")}`);
  const body = [
    `Measured ${meta.date} on ${meta.machine}; ${meta.rounds ?? 1} interleaved rounds, medians shown.`,
    "",
    "Command: `npm run bench:probe` (scripts/bench/probe.sh): `npm run lab -- bench-up` (namespace `tlsf-bench`, 250 addresses 198.19.1.1-250, one nginx on 443 and one Postfix on 25 on every address, both accepting TLS 1.0-1.3 and following the client's cipher order), then on the same 500-line target list:",
    "",
    "```",
    `${meta.tlsfleetCommand}`,
    `${meta.sslscanCommand}`,
    "```",
    "",
    "\"50 ms RTT\" goes through `tests/lab/delay-relay.mjs` (25 ms each way, ports 10443/10025 in the same namespace). CPU is user+sys of the tool and every child it waited for (bash `time`); \"servers' CPU\" is what everything in the bench namespace (servers, relay) used meanwhile, from /proc; tlsfleet's includes Node start-up and tsx compiling the CLI" + (meta.startupCpu ? ` (${meta.startupCpu} s for \`tlsfleet probe --help\` alone)` : "") + ". sslscan runs with cipher-suite enumeration and the other extra checks off (`" + SSLSCAN_FLAGS.join(" ") + "`), i.e. protocol detection only, the question tlsfleet answers; sslscan's default run does much more per endpoint and would flatter tlsfleet. \"machine busy / load\" is the whole machine during the run (median %) and the highest 1-minute load average at a run's start: this machine is shared, and anything far above the tool's own CPU means other work competed for the 2 cores." + (meta.nice && meta.nice !== "0" ? ` Tools and bench servers ran at nice ${meta.nice} to keep that competition down.` : ""),
    "",
    ...table,
    "",
    `Against issue 12's targets (tlsfleet's endpoints/s >= ${THROUGHPUT_TARGET.direct}x sslscan's on the direct path and >= ${THROUGHPUT_TARGET["50 ms RTT"]}x through the 50 ms RTT relay, at <= ${CPU_TARGET}x sslscan's CPU per endpoint):`,
    "",
    "| path | tlsfleet mode | concurrency | throughput vs sslscan -P16 | CPU per endpoint vs sslscan |",
    "|---|---|---|---|---|",
    ...ratios,
    "",
    standing(groups, fmt),
    "",
    whyParagraph(groups, fmt, connectionTimes),
    "",
    boundsParagraph(groups, fmt, connectionTimes, delayedTargets),
    ...(problems.length > 0 ? ["", "Answers that differ from the bench configuration (every version accepted):", "", ...problems] : []),
    ...(meta.nodeArgs ? ["", `The CLI ran as \`node ${meta.nodeArgs} bin/tlsfleet\`.`] : []),
    ...(invalid.length > 0 ? ["", `INVALID: ${invalid.map((r) => `${r.path} ${r.tool} ${r.parallel} round ${r.round} answered ${r.check.total} of ${r.endpoints}`).join("; ")}`] : []),
  ].join("\n");
  fs.writeFileSync(outMd, `${SECTION}\n\n${body}\n`);
  process.stdout.write(`${body}\n`);

  if (invalid.length > 0) {
    process.stderr.write("bench:probe: some runs did not answer for every endpoint; BENCHMARKS.md left alone\n");
    process.exitCode = 1;
    return;
  }
  if (benchmarksMd) {
    let doc = fs.existsSync(benchmarksMd)
      ? fs.readFileSync(benchmarksMd, "utf8")
      : "# Benchmarks\n\nMeasured numbers for tlsfleet, each section written by the script named in it. Re-run the script to refresh its section; numbers from another machine are not comparable.\n";
    const start = doc.indexOf(SECTION);
    const section = `${SECTION}\n\n${body}\n`;
    if (start >= 0) {
      const next = doc.indexOf("\n## ", start + SECTION.length);
      doc = doc.slice(0, start) + section + (next >= 0 ? doc.slice(next + 1) : "");
    } else {
      doc = `${doc.trimEnd()}\n\n${section}`;
    }
    fs.writeFileSync(benchmarksMd, doc.endsWith("\n") ? doc : `${doc}\n`);
  }
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "targets") targets(args[0], args[1]);
else if (cmd === "check") check(args[0], args[1], args[2] ?? "noncompliant");
else if (cmd === "report") report(args[0], args[1], args[2]);
else if (cmd === "meta") {
  const [startupCpu, concurrency, parallel, rounds, niceLevel, modes = "hello"] = args;
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: machineNote(),
    startupCpu,
    rounds: Number(rounds ?? 1),
    nice: niceLevel,
    nodeArgs: process.env.TLSFLEET_NODE_ARGS || undefined,
    tlsfleetCommand: `node bin/tlsfleet probe --targets direct.targets --concurrency N --mode M --json    # N = ${concurrency.split(/\s+/).join(", ")}; M = ${modes.split(/\s+/).join(", ")}; then delayed.targets`,
    sslscanCommand: `xargs -P ${parallel} -L 1 sslscan ${SSLSCAN_FLAGS.join(" ")} < direct.sslscan-args    # a line: [--starttls-smtp] --xml=FILE ADDR:PORT`,
  };
  process.stdout.write(`${JSON.stringify({ meta })}\n`);
}
else {
  process.stderr.write("usage: probe-helper.mjs targets BENCH_JSON OUT_DIR | meta STARTUP_CPU CONCURRENCY PARALLEL ROUNDS NICE MODES | check tlsfleet|sslscan FILE|DIR [VERDICT] | report RESULTS OUT_MD [BENCHMARKS_MD]\n");
  process.exitCode = 2;
}
