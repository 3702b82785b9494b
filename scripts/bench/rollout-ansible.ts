// The yardstick of `npm run bench:rollout`: ansible-playbook doing only what tlsfleet's
// disable-legacy plan writes on a lab Postfix host (agents/playbooks/postfix/plan.ts
// planDisableLegacy: the four *_tls_*protocols parameters to ">=TLSv1.2" on Postfix 3.6+), then
// `postfix reload`. No check before, no read-back, no verification on the wire.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RolloutBenchLayout } from "../../tests/lab/fleet";

export const FIX_PARAMETERS = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols"] as const;
export const FIX_VALUE = ">=TLSv1.2";

export interface AnsibleRun {
  wallS: number;
  /** user+sys of ansible-playbook and every child it waited for (its forks, the ssh clients). */
  cpuS: number;
  /** Hosts whose recap reads ok=2 changed=2 unreachable=0 failed=0. */
  hostsOk: number;
  exitCode: number | null;
  log: string;
}

export function ansibleVersion(): string | null {
  const r = spawnSync("ansible-playbook", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  return /ansible-playbook \[core ([^\]]+)\]/.exec(r.stdout)?.[1] ?? r.stdout.split("\n")[0]!.trim();
}

/** Inventory, playbook and an ansible.cfg of our own (so nothing in /etc/ansible or ~ changes the defaults). */
export function writeAnsibleFiles(dir: string, layout: RolloutBenchLayout): { inventory: string; playbook: string; config: string } {
  fs.mkdirSync(dir, { recursive: true });
  const inventory = path.join(dir, "inventory.ini");
  const playbook = path.join(dir, "disable-legacy.yml");
  const config = path.join(dir, "ansible.cfg");
  // Host keys pinned from the lab's manifest, as tlsfleet pins them.
  const sshArgs = `-o UserKnownHostsFile=${layout.ssh.knownHostsPath} -o StrictHostKeyChecking=yes`;
  fs.writeFileSync(
    inventory,
    [
      "[rollout_bench]",
      ...layout.hosts.map((h) => `${h.name} ansible_host=${h.address}`),
      "",
      "[rollout_bench:vars]",
      `ansible_user=${layout.ssh.user}`,
      `ansible_ssh_private_key_file=${layout.ssh.keyPath}`,
      "ansible_python_interpreter=/usr/bin/python3",
      `ansible_ssh_common_args=${sshArgs}`,
      "",
    ].join("\n"),
  );
  const assignments = FIX_PARAMETERS.map((p) => `'${p}=${FIX_VALUE}'`).join(" ");
  fs.writeFileSync(
    playbook,
    [
      "# TLS 1.0/1.1 off in Postfix: the values tlsfleet's disable-legacy plan writes, then a reload. Nothing is verified.",
      "- hosts: rollout_bench",
      "  gather_facts: false",
      "  tasks:",
      "    - name: TLS 1.2 and later only",
      `      ansible.builtin.command: postconf -e ${assignments}`,
      "    - name: Reload Postfix",
      "      ansible.builtin.command: postfix reload",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(config, "[defaults]\n");
  return { inventory, playbook, config };
}

/**
 * One whole ansible-playbook process, timed from outside (/usr/bin/time), with a control-socket
 * folder of its own so no SSH connection survives from an earlier run; its ControlPersist masters
 * are closed afterwards (`ssh -O exit` on each socket).
 */
export async function runAnsible(files: { inventory: string; playbook: string; config: string }, opts: { forks: number; pipelining: boolean; logFile: string; limit?: string }): Promise<AnsibleRun> {
  const controlDir = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfrb-cp-"));
  const timesFile = path.join(controlDir, "times");
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: files.config,
    ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
    ANSIBLE_PIPELINING: opts.pipelining ? "True" : "False",
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_FORCE_COLOR: "0",
  };
  const argv = ["-f", "%e %U %S", "-o", timesFile, "ansible-playbook", "-i", files.inventory, "-f", String(opts.forks), ...(opts.limit ? ["--limit", opts.limit] : []), files.playbook];
  const out = fs.openSync(opts.logFile, "w");
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn("/usr/bin/time", argv, { stdio: ["ignore", out, out], env });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
  fs.closeSync(out);
  const [wallS, userS, sysS] = fs.readFileSync(timesFile, "utf8").trim().split("\n").at(-1)!.split(/\s+/).map(Number);
  for (const socket of fs.readdirSync(controlDir).filter((f) => f !== "times")) {
    spawnSync("ssh", ["-O", "exit", "-o", `ControlPath=${path.join(controlDir, socket)}`, "unused"], { stdio: "ignore", timeout: 10_000 });
  }
  fs.rmSync(controlDir, { recursive: true, force: true });
  const log = fs.readFileSync(opts.logFile, "utf8");
  return { wallS: wallS!, cpuS: userS! + sysS!, hostsOk: recapOk(log), exitCode, log };
}

/** Hosts in the PLAY RECAP where both tasks ran and changed something. */
function recapOk(log: string): number {
  const recap = log.slice(log.lastIndexOf("PLAY RECAP"));
  return recap.split("\n").filter((l) => /\sok=2\s+changed=2\s+unreachable=0\s+failed=0\b/.test(l)).length;
}
