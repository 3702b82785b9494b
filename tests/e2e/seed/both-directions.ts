// Evidence of both mail directions for one Postfix host, written the way the worker writes it,
// for the host page's end-to-end test (tests/e2e/host-directions.spec.ts):
// - inbound: a real probe (lib/tls probeEndpoint) of a loopback SMTP server that takes TLS 1.2
//   and 1.3 only, stored as the host's 25/smtp result;
// - config: a Postfix state from the playbook's own parser (interpretPostfix) of postconf output
//   whose server side is ">=TLSv1.2" and whose client side (smtp_tls_protocols) allows TLS 1.0 only;
// - outbound: the verdict of the check sink (outboundVerdict) for a host that offered only TLS 1.0
//   (the 421 4.4.2 case);
// then the host's status, recomputed by lib/compliance/update.ts as a finished task does.
//
// Run: DATABASE_URL=<the e2e database> node --conditions=react-server --import tsx tests/e2e/seed/both-directions.ts <hostId>
// Prints the JSON {probedAt, checkedAt} of what it wrote.
import type { Server } from "node:net";
import { prisma } from "@/lib/db";
import { probeEndpoint } from "@/lib/tls/probe";
import { parseAllowList } from "@/lib/tls/allowlist";
import { TLS_VERSIONS } from "@/lib/tls/types";
import { outboundVerdict } from "@/lib/outbound/verdict";
import { updateHostStatus } from "@/lib/compliance/update";
import { interpretPostfix } from "@/agents/playbooks/postfix";
import { createMailServer } from "../../lab/peers/mail-server";
import { selfSignedCertificate } from "../../lab/peers/common";

// Data only: the sink's address as the check records it, never dialled here.
const SINK = "198.18.0.1:25";

const PARAMETERS = {
  smtpd_tls_protocols: ">=TLSv1.2",
  smtpd_tls_mandatory_protocols: ">=TLSv1.2",
  // What a host left on a TLS 1.0-only client looks like (the lab's legacy host writes it so).
  smtp_tls_protocols: "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3",
  smtp_tls_mandatory_protocols: "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3",
};

async function probeLoopbackSmtp(commonName: string) {
  const smtp: Server = createMailServer({ protocol: "smtp", minVersion: "TLSv1.2", maxVersion: "TLSv1.3", greetingMs: 0, offerStartTls: true, afterStartTls: "tls", certificate: selfSignedCertificate(commonName) });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  try {
    const port = (smtp.address() as { port: number }).port;
    return await probeEndpoint({ host: "127.0.0.1", port, service: "smtp" }, { allowList: parseAllowList(["127.0.0.0/8"]) });
  } finally {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  }
}

function postfixState(collectedAt: Date) {
  const lines = (f: (p: string) => string) => Object.keys(PARAMETERS).map((p) => `${p} = ${f(p)}`).join("\n") + "\n";
  const state = interpretPostfix({
    basics: "mail_version = 3.7.11\nconfig_directory = /etc/postfix\nsmtpd_tls_security_level = may\n",
    values: lines((p) => PARAMETERS[p as keyof typeof PARAMETERS]),
    expanded: null,
    defaults: lines(() => ">=TLSv1"),
    explicit: lines((p) => PARAMETERS[p as keyof typeof PARAMETERS]),
    master: "",
    masterExpanded: null,
    tls: "smtp_tls_security_level = may\n",
    raw: [],
    collectedAt,
  });
  if (typeof state === "string") throw new Error(state);
  const { raw: _raw, ...parsed } = state;
  return parsed;
}

async function main() {
  const hostId = process.argv[2];
  const host = await prisma.host.findUniqueOrThrow({ where: { id: hostId }, select: { name: true, endpoints: { where: { port: 25 }, select: { id: true } } } });
  const endpoint = host.endpoints[0];
  if (!endpoint) throw new Error(`${host.name} has no 25/smtp endpoint`);

  const report = await probeLoopbackSmtp(host.name);
  if (report.verdict !== "compliant") throw new Error(`the loopback SMTP server should probe compliant, got ${report.verdict}: ${report.error}`);
  const probedAt = new Date(Date.now() - 20 * 60_000);
  await prisma.probeResult.create({
    data: {
      endpointId: endpoint.id,
      probedAt,
      starttls: report.starttls,
      protocols: Object.fromEntries(TLS_VERSIONS.map((v) => [v, { outcome: report.protocols[v], reason: report.reasons[v] }])),
      ciphers: report.cipher,
      // Stored as the scan task stores them (agents/tasks/scan.ts): plain JSON objects.
      certificate: (report.certificate ?? undefined) as never,
      verdict: report.verdict,
      error: report.error,
      durationMs: Math.round(report.durationMs),
    },
  });

  const takenAt = new Date(Date.now() - 15 * 60_000);
  const state = postfixState(takenAt);
  await prisma.configSnapshot.create({ data: { hostId, takenAt, playbook: "postfix", state: { ...state, rebootPending: false } as never, raw: "", rebootPending: false } });

  const checkedAt = new Date(Date.now() - 10 * 60_000);
  const verdict = outboundVerdict(
    [{ at: checkedAt, startTls: true, offeredHighest: "TLSv1", offeredVersions: ["TLSv1"], offeredListed: true, negotiated: null, failure: "unsupported protocol", messages: 0 }],
    SINK,
    60,
  );
  await prisma.outboundCheck.create({ data: { hostId, checkedAt, sink: SINK, outcome: verdict.outcome, negotiated: verdict.negotiated, offered: verdict.offered, detail: verdict.detail } });

  await updateHostStatus(hostId, { scannedAt: probedAt });
  process.stdout.write(JSON.stringify({ probedAt, checkedAt }));
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
