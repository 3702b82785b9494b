#!/usr/bin/env bash
# Probe throughput, tlsfleet against sslscan, on >= 500 real endpoints over >= 250 addresses
# (issue 3). Brings up the lab's bench layout (needs root), runs both tools on the same list,
# directly and through the 50 ms RTT delay relay, prints a markdown table and updates the
# "Probe throughput (issue 3)" section of BENCHMARKS.md.
#
#   npm run bench:probe [-- --concurrency "32 128"] [--modes "hello full"] [--repeat 3] [--wait-quiet 300] [--nice -10] [--no-write] [--skip-delayed]
#
# The machine is shared: every run records the 1-minute load average and how busy the whole
# machine was, runs are interleaved and repeated, and the table shows medians. Both tools and the
# bench servers run at nice -10 (--nice 0 to turn off), so that other people's builds on the same
# 2 cores distort the comparison less. This kernel groups processes per session
# (sched_autogroup), and nice only ranks processes inside one group: each tool therefore runs in
# a session of its own whose autogroup gets the nice value, and so do the bench servers' groups
# (set back to 0 at the end).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

concurrency="32 128"
modes="hello full"
repeat=3
wait_quiet=300
nice_level=-10
write=1
paths="direct delayed"
while [ $# -gt 0 ]; do
  case "$1" in
    --concurrency) concurrency="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --wait-quiet) wait_quiet="$2"; shift 2 ;;
    --nice) nice_level="$2"; shift 2 ;;
    --no-write) write=0; shift ;;
    --skip-delayed) paths="direct"; shift ;;
    *) echo "usage: probe.sh [--concurrency \"N ...\"] [--modes \"hello full\"] [--repeat R] [--wait-quiet SECONDS] [--nice N] [--no-write] [--skip-delayed]" >&2; exit 2 ;;
  esac
done
sslscan_parallel=16

command -v sslscan >/dev/null || { echo "bench:probe: sslscan is not installed (apt-get install sslscan)" >&2; exit 1; }
bash tests/lab/lab.sh bench-up

out="$repo/bench-results/probe-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
node scripts/bench/probe-helper.mjs targets tests/lab/.state/bench.json "$out"
read -r -a sslscan_flags < "$out/sslscan-flags"
results="$out/results.jsonl"
: > "$results"
# Probes may only go to the lab's benchmarking range.
export TLSFLEET_ALLOWED_TARGETS="198.18.0.0/15"

# Extra node flags for the CLI, e.g. TLSFLEET_NODE_ARGS="--import tsx" while bin/tlsfleet cannot
# load its subcommands on its own. Empty by default: the benchmark runs the CLI as users do.
read -r -a node_args <<< "${TLSFLEET_NODE_ARGS:-}"
if ! node "${node_args[@]}" bin/tlsfleet probe "198.19.1.1:443" --json > "$out/sanity.json" 2> "$out/sanity.err" || ! grep -q '"verdict"' "$out/sanity.json"; then
  echo "bench:probe: \`node ${node_args[*]} bin/tlsfleet probe 198.19.1.1:443 --json\` does not work; see $out/sanity.err:" >&2
  tail -n 5 "$out/sanity.err" >&2
  exit 1
fi

# Busy jiffies and total jiffies of the whole machine, from /proc/stat.
cpu_jiffies() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }

# CPU jiffies (utime+stime, and those of reaped children: Postfix's master reaps its smtpd
# processes) of everything in the bench namespace: the servers and the delay relay.
server_jiffies() {
  local pid sum=0 t
  for pid in $(ip netns pids tlsf-bench); do
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null) || continue
    sum=$((sum + t))
  done
  echo "$sum"
}

# "wall user sys machine_busy_percent load1 server_cpu_seconds" for a command and every child it
# waited for. Its exit status is not judged here: the answers are checked one by one afterwards.
timed() {
  local TIMEFORMAT='%3R %3U %3S' load b0 t0 b1 t1 s0 s1 times hz
  hz=$(getconf CLK_TCK)
  load=$(cut -d' ' -f1 /proc/loadavg)
  s0=$(server_jiffies)
  read -r b0 t0 < <(cpu_jiffies)
  times=$({ time "$@" ; } 2>&1 >/dev/null | tail -n 1 || true)
  read -r b1 t1 < <(cpu_jiffies)
  s1=$(server_jiffies)
  echo "$times $(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 )) $load $(awk -v d=$((s1 - s0)) -v hz="$hz" 'BEGIN { printf "%.2f", (d < 0 ? 0 : d) / hz }')"
}

# Runs a command in a new session whose scheduling autogroup gets $nice_level; setsid --wait
# passes the children's CPU time up to `time`.
prioritized() {
  if [ "$nice_level" = 0 ]; then "$@"; return; fi
  setsid --wait bash -c 'echo "$1" > /proc/$$/autogroup 2>/dev/null || true; shift; exec nice -n "$0" "$@"' "$nice_level" "$nice_level" "$@"
}

run_tlsfleet() { # path concurrency round mode
  local jsonl="$out/tlsfleet-$4-$1-c$2-r$3.jsonl"
  timed prioritized bash -c 'list=$1 c=$2 jsonl=$3 mode=$4; shift 4; exec node "$@" bin/tlsfleet probe --targets "$list" --concurrency "$c" --mode "$mode" --json > "$jsonl" 2> "$jsonl.err"' \
    bash "$out/$1.targets" "$2" "$jsonl" "$4" "${node_args[@]}"
}

run_sslscan() { # path
  rm -f "$out/sslscan-$1"/*.xml
  timed prioritized bash -c 'par=$1 args=$2; shift 2; exec xargs -P "$par" -L 1 sslscan "$@" < "$args" > /dev/null 2> "$args.err"' \
    bash "$sslscan_parallel" "$out/$1.sslscan-args" "${sslscan_flags[@]}"
}

record() { # path tool parallel "wall user sys busy load server" check-json round
  local wall user sys busy load server n addrs
  read -r wall user sys busy load server <<< "$4"
  n=$(grep -vc '^#' "$out/$1.targets")
  addrs=$(grep -v '^#' "$out/$1.targets" | cut -d: -f1 | sort -u | wc -l)
  printf '{"path":"%s","tool":"%s","parallel":"%s","round":%d,"endpoints":%d,"addresses":%d,"wall":%s,"user":%s,"sys":%s,"machineBusy":%s,"load1":%s,"serverCpu":%s,"check":%s}\n' \
    "$( [ "$1" = direct ] && echo direct || echo '50 ms RTT')" "$2" "$3" "$6" "$n" "$addrs" "$wall" "$user" "$sys" "$busy" "$load" "${server:-null}" "$5" >> "$results"
  echo "  round $6 $2 ($1, $3): wall ${wall}s, user ${user}s, sys ${sys}s, servers ${server}s, machine ${busy}% busy, load ${load}; $5" >&2
}

# Other work on this machine distorts wall times: wait (bounded) for it to calm down.
if [ "$wait_quiet" -gt 0 ]; then
  waited=0
  while awk '{ exit !($1 > 1.5) }' /proc/loadavg && [ "$waited" -lt "$wait_quiet" ]; do
    [ "$waited" = 0 ] && echo "bench:probe: load average $(cut -d' ' -f1 /proc/loadavg), waiting up to ${wait_quiet}s for it to drop below 1.5" >&2
    sleep 10
    waited=$((waited + 10))
  done
fi

# The bench servers (and the relay) get the same priority as the tools; new smtpd processes
# inherit it from Postfix's master.
set_server_priority() {
  for pid in $(ip netns pids tlsf-bench); do
    renice -n "$1" -p "$pid" > /dev/null 2>&1 || true
    echo "$1" > "/proc/$pid/autogroup" 2>/dev/null || true
  done
}
if [ "$nice_level" != 0 ]; then
  set_server_priority "$nice_level"
  trap 'set_server_priority 0' EXIT
fi

# Warm the file cache, then measure what the CLI costs before it probes anything.
timed node "${node_args[@]}" bin/tlsfleet probe --help > /dev/null
read -r _ su ss _ <<< "$(timed node "${node_args[@]}" bin/tlsfleet probe --help)"
startup_cpu=$(awk -v u="$su" -v s="$ss" 'BEGIN { printf "%.2f", u + s }')

for round in $(seq 1 "$repeat"); do
  for p in $paths; do
    echo "== round $round, $p" >&2
    t=$(run_sslscan "$p")
    record "$p" sslscan "-P$sslscan_parallel" "$t" "$(node scripts/bench/probe-helper.mjs check sslscan "$out/sslscan-$p")" "$round"
    for mode in $modes; do
      for c in $concurrency; do
        t=$(run_tlsfleet "$p" "$c" "$round" "$mode")
        record "$p" "tlsfleet --mode $mode" "--concurrency $c" "$t" "$(node scripts/bench/probe-helper.mjs check tlsfleet "$out/tlsfleet-$mode-$p-c$c-r$round.jsonl" noncompliant)" "$round"
      done
    done
  done
done

# Connections per endpoint and the time of one connection, for the bounds in the report.
for p in $paths; do
  prioritized node --conditions=react-server --import tsx scripts/bench/connection-time.ts "$out/$p.targets" "$( [ "$p" = direct ] && echo direct || echo '50 ms RTT')" 5 >> "$results" \
    || echo "bench:probe: connection-time.ts failed for $p" >&2
done

node scripts/bench/probe-helper.mjs meta "$startup_cpu" "$concurrency" "$sslscan_parallel" "$repeat" "$nice_level" "$modes" >> "$results"

bench_md=""
[ "$write" = 1 ] && bench_md="$repo/BENCHMARKS.md"
# The report refuses to write BENCHMARKS.md (exit 1) when a run did not answer for every endpoint.
status=0
node scripts/bench/probe-helper.mjs report "$results" "$out/report.md" "$bench_md" || status=$?
echo "raw results: $out" >&2
exit "$status"
