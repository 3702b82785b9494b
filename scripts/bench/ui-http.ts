// HTTP side of the UI benchmark: sign in like a browser (next-auth credentials flow), time full
// responses, and sample the server's resident memory from /proc while a request runs.
import fs from "node:fs";

export interface Timing {
  status: number;
  ms: number;
  bytes: number;
  body?: string;
}

export class Session {
  private cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  private remember(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      if (i > 0) this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async signIn(email: string, password: string) {
    const csrfRes = await fetch(`${this.base}/api/auth/csrf`);
    this.remember(csrfRes);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const res = await fetch(`${this.base}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: this.cookieHeader, origin: this.base },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${this.base}/`, json: "true" }),
    });
    this.remember(res);
    await res.arrayBuffer();
    if (![...this.cookies.keys()].some((k) => k.includes("session-token"))) throw new Error(`sign-in failed (HTTP ${res.status}): no session cookie`);
  }

  /** POSTs JSON as the browser's fetch would (same origin); the parsed answer, or an error naming it. */
  async postJson<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, { method: "POST", redirect: "manual", headers: { cookie: this.cookieHeader, origin: this.base, "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Times one GET until the last byte of the body; keeps the body when asked (to find links). */
  async get(path: string, keepBody = false): Promise<Timing> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${path}`, { redirect: "manual", headers: { cookie: this.cookieHeader } });
    let bytes = 0;
    const chunks: Uint8Array[] = [];
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (keepBody) chunks.push(value);
      }
    }
    const ms = performance.now() - t0;
    return { status: res.status, ms, bytes, body: keepBody ? Buffer.concat(chunks).toString("utf8") : undefined };
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4 (ppid) follows the parenthesised command name, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The process and all its descendants. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]));
  return all;
}

export function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) of a process so far, with those of its children it has reaped. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100; // USER_HZ
  } catch {
    return 0; // exited meanwhile
  }
}

/** processCpuSeconds of a process and all its live descendants. */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((n, p) => n + processCpuSeconds(p), 0);
}

/** Busy and total CPU seconds of the whole machine so far, all cores together (/proc/stat). */
export function machineCpuSeconds(): [number, number] {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return [busy / 100, (busy + f[3]! + f[4]!) / 100];
}

/** Resident memory of a process and its descendants now, in MB. */
export function treeRssMb(pid: number): number {
  return processTree(pid).reduce((n, p) => n + statusKb(p, "VmRSS"), 0) / 1024;
}

/** The largest peak resident memory (VmHWM) of any one process of the tree, in MB. */
export function treeHwmMb(pid: number): number {
  return processTree(pid).reduce((m, p) => Math.max(m, statusKb(p, "VmHWM")), 0) / 1024;
}

/** Samples the summed VmRSS of a process tree every `everyMs` until stopped; returns the peak in MB. */
export function sampleRss(pid: number, everyMs = 20) {
  let peakKb = 0;
  let tree = processTree(pid);
  let ticks = 0;
  const timer = setInterval(() => {
    if (++ticks % 25 === 0) tree = processTree(pid);
    const kb = tree.reduce((n, p) => n + statusKb(p, "VmRSS"), 0);
    if (kb > peakKb) peakKb = kb;
  }, everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      const kb = tree.reduce((n, p) => n + statusKb(p, "VmRSS"), 0);
      return Math.max(peakKb, kb) / 1024;
    },
  };
}
