import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compareVersions, type TlsVersion } from "./linux-common";
import {
  evaluatePostfixProtocols,
  formatPostfixProtocols,
  interpretPostfix,
  parsePostconf,
  planPostfix,
  postfixPlaybook,
  splitMasterName,
  type PostfixState,
} from "./postfix";

const ALL: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

describe("Postfix protocol lists (postconf(5) smtpd_tls_protocols)", () => {
  // [value, versions enabled (null: cannot tell), why]
  const table: Array<[string, TlsVersion[] | null, string]> = [
    [">=TLSv1", ALL, "the Postfix 3.6+ default"],
    [">=TLSv1.2", ["TLSv1.2", "TLSv1.3"], "the compliant value"],
    [">=TLSv1.1", ["TLSv1.1", "TLSv1.2", "TLSv1.3"], "the lab's submission override"],
    ["", ALL, "empty: every version OpenSSL supports"],
    ["!SSLv2, !SSLv3", ALL, "the pre-3.6 default"],
    ["!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", ["TLSv1.2", "TLSv1.3"], "the legacy compliant syntax"],
    ["!SSLv2,!SSLv3,!TLSv1,!TLSv1.1", ["TLSv1.2", "TLSv1.3"], "commas without spaces"],
    ["!SSLv2:!SSLv3:!TLSv1:!TLSv1.1", ["TLSv1.2", "TLSv1.3"], "colons separate too"],
    ["!SSLv2 !SSLv3 !TLSv1 !TLSv1.1", ["TLSv1.2", "TLSv1.3"], "whitespace separates too"],
    ["!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3", ["TLSv1"], "the lab's TLS 1.0-only host"],
    ["!SSLv2, !SSLv3, !TLSv1.1", ["TLSv1", "TLSv1.2", "TLSv1.3"], "a hole: a server still accepts TLS 1.0"],
    [">=TLSv1, <=TLSv1.3", ALL, "both bounds (postconf(5) example)"],
    [">=TLSv1.2, <=TLSv1.2", ["TLSv1.2"], "TLS 1.2 only"],
    ["<=TLSv1.1", ["TLSv1", "TLSv1.1"], "upper bound only: at_risk"],
    [">=0x0303", ["TLSv1.2", "TLSv1.3"], "hex with 0x"],
    [">=303", ["TLSv1.2", "TLSv1.3"], "hex without prefix"],
    [">=0301", ALL, "hex with leading 0"],
    [">=TLSv1, <=0305", ALL, "a hex version unknown to OpenSSL is ignored (postconf(5) example)"],
    [">=TLSv1.2, !TLSv1.3", ["TLSv1.2"], "a bound and an exclusion together"],
    ["TLSv1.2, TLSv1.3", ["TLSv1.2", "TLSv1.3"], "inclusion list: everything else excluded"],
    ["TLSv1", ["TLSv1"], "inclusion of one"],
    ["!TLSv9", null, "unknown protocol name"],
    ["tlsv1.2", null, "names are matched exactly"],
    [">=TLSv9", null, "unknown bound"],
    ["$my_protocols", null, "an unexpanded reference"],
  ];
  it.each(table)("%s -> %j (%s)", (value, enabled) => {
    expect(evaluatePostfixProtocols(value).enabled).toEqual(enabled);
  });

  it("as a client, keeps only the lowest unbroken run and says what the gap cuts off (openssl s_client -no_tls1_1 offers TLS 1.0 only)", () => {
    const r = evaluatePostfixProtocols("!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3", { side: "client" });
    expect(r.enabled).toEqual(["TLSv1"]);
    expect(r.problems).toEqual(["a gap in the list: as a client OpenSSL uses only TLS 1.0, so TLS 1.2 is never offered"]);
    // The server accepts across the gap.
    expect(evaluatePostfixProtocols("!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3", { side: "server" }).enabled).toEqual(["TLSv1", "TLSv1.2"]);
    expect(evaluatePostfixProtocols("!TLSv1.2", { side: "client" }).enabled).toEqual(["TLSv1", "TLSv1.1"]);
    expect(evaluatePostfixProtocols(">=TLSv1.2", { side: "client" })).toEqual({ enabled: ["TLSv1.2", "TLSv1.3"], problems: [] });
  });

  it("reports that bounds need Postfix 3.6 on an older Postfix", () => {
    const r = evaluatePostfixProtocols(">=TLSv1.2", { postfixVersion: "3.5.18" });
    expect(r.enabled).toBeNull();
    expect(r.problems.join()).toMatch(/Postfix 3\.6/);
    expect(evaluatePostfixProtocols(">=TLSv1.2", { postfixVersion: "3.10.1" }).enabled).toEqual(["TLSv1.2", "TLSv1.3"]);
  });

  const formats: Array<[TlsVersion[], string | null, string]> = [
    [["TLSv1.2", "TLSv1.3"], "3.7.11", ">=TLSv1.2"],
    [["TLSv1.2", "TLSv1.3"], "3.5.18", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"],
    [["TLSv1.2"], "3.7.11", ">=TLSv1.2, <=TLSv1.2"],
    [["TLSv1", "TLSv1.2"], "3.7.11", "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3"],
    [ALL, "3.7.11", ">=TLSv1"],
    [ALL, null, ">=TLSv1"],
  ];
  it.each(formats)("formats %j for Postfix %s as %s, and reads back the same", (enabled, version, value) => {
    expect(formatPostfixProtocols(enabled, version)).toBe(value);
    expect(evaluatePostfixProtocols(value, { postfixVersion: version }).enabled).toEqual(enabled);
  });

  it("compares versions numerically", () => {
    expect(compareVersions("3.10", "3.6")).toBeGreaterThan(0);
    expect(compareVersions("3.6.0", "3.6")).toBe(0);
    expect(compareVersions("2.11.3", "3.6")).toBeLessThan(0);
  });
});

describe("postconf output", () => {
  it("parses name = value, empty values and master.cf names", () => {
    const p = parsePostconf("smtpd_tls_protocols = >=TLSv1\nmydestination =\nsubmission/inet/smtpd_tls_protocols = >=TLSv1.1\n[::1]:587/inet/smtpd_tls_protocols = !SSLv2, !SSLv3\ngarbage line\n");
    expect(Object.fromEntries(p.values)).toEqual({
      smtpd_tls_protocols: ">=TLSv1",
      mydestination: "",
      "submission/inet/smtpd_tls_protocols": ">=TLSv1.1",
      "[::1]:587/inet/smtpd_tls_protocols": "!SSLv2, !SSLv3",
    });
    expect(p.unparsed).toEqual(["garbage line"]);
  });

  it.each([
    ["submission/inet/smtpd_tls_protocols", { service: "submission", type: "inet", parameter: "smtpd_tls_protocols" }],
    ["127.0.0.1:10025/inet/smtpd_tls_protocols", { service: "127.0.0.1:10025", type: "inet", parameter: "smtpd_tls_protocols" }],
    ["relay/unix/smtp_tls_protocols", { service: "relay", type: "unix", parameter: "smtp_tls_protocols" }],
    ["smtpd_tls_protocols", null],
    ["a/bogus/smtpd_tls_protocols", null],
  ])("splits %s", (name, parts) => {
    expect(splitMasterName(name)).toEqual(parts);
  });
});

// What `postconf` prints on the lab's hosts (Postfix 3.7.11), for the state and plan tests.
function labState(mainExplicit: Record<string, string>, master: string, version = "3.7.11"): PostfixState {
  const names = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols"];
  const dflt = compareVersions(version, "3.6") >= 0 ? ">=TLSv1" : "!SSLv2, !SSLv3";
  const lines = (f: (n: string) => string) => names.map((n) => `${n} = ${f(n)}`).join("\n") + "\n";
  const state = interpretPostfix({
    basics: `mail_version = ${version}\nconfig_directory = /etc/postfix\nsmtpd_tls_security_level = may\n`,
    values: lines((n) => mainExplicit[n] ?? dflt),
    expanded: null,
    defaults: lines(() => dflt),
    explicit: Object.entries(mainExplicit).map(([k, v]) => `${k} = ${v}`).join("\n") + "\ncompatibility_level = 3.6\n",
    master,
    masterExpanded: null,
    raw: [],
    collectedAt: new Date("2026-11-28T10:00:00Z"),
  });
  if (typeof state === "string") throw new Error(state);
  return state;
}

const compliantMain = {
  smtpd_tls_protocols: ">=TLSv1.2",
  smtpd_tls_mandatory_protocols: ">=TLSv1.2",
  smtp_tls_protocols: ">=TLSv1.2",
  smtp_tls_mandatory_protocols: ">=TLSv1.2",
};
const submissionOverrides =
  "submission/inet/smtpd_sasl_auth_enable = no\nsubmission/inet/smtpd_tls_mandatory_protocols = >=TLSv1.1\nsubmission/inet/smtpd_tls_protocols = >=TLSv1.1\nsubmission/inet/syslog_name = postfix/submission\n";

describe("Postfix state", () => {
  it("reports TLS 1.0 enabled when Postfix allows >=TLSv1 (mx-legacy)", () => {
    const s = labState({ smtpd_tls_protocols: ">=TLSv1", smtpd_tls_mandatory_protocols: ">=TLSv1", smtp_tls_protocols: ">=TLSv1", smtp_tls_mandatory_protocols: ">=TLSv1" }, "");
    expect(s).toMatchObject({ playbookId: "postfix", legacyEnabled: true, tls12Enabled: true, rebootPending: false, mailVersion: "3.7.11", configDirectory: "/etc/postfix" });
    expect(s.summary).toMatch(/^TLS 1\.0\/1\.1 enabled by main\.cf: smtpd_tls_protocols = >=TLSv1/);
  });

  it("treats an unset parameter as this Postfix's default, and says so", () => {
    const s = labState({}, "");
    expect(s.parameters.smtpd_tls_protocols).toMatchObject({ explicit: null, value: ">=TLSv1", default: ">=TLSv1", enabled: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] });
    expect(s.settings[0]).toMatchObject({ source: "default" });
    expect(s.legacyEnabled).toBe(true);
  });

  it("finds the master.cf override that keeps TLS 1.1 on 587 while main.cf is compliant (mx-submission)", () => {
    const s = labState(compliantMain, submissionOverrides);
    expect(s.masterOverrides.map((o) => `${o.service}/${o.type}/${o.parameter}=${o.value}`)).toEqual([
      "submission/inet/smtpd_tls_mandatory_protocols=>=TLSv1.1",
      "submission/inet/smtpd_tls_protocols=>=TLSv1.1",
    ]);
    expect(s.legacyEnabled).toBe(true);
    expect(s.summary).toContain("master.cf submission/inet: smtpd_tls_protocols = >=TLSv1.1");
  });

  it("is compliant when all four parameters and every override are >=TLSv1.2 (mx-modern)", () => {
    const s = labState(compliantMain, "submission/inet/syslog_name = postfix/submission\n");
    expect(s).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
    expect(s.summary).toMatch(/^TLS 1\.0\/1\.1 off, TLS 1\.2 on in all 4 settings/);
  });

  it("reports at_risk config for the TLS 1.0-only host (mx-tls10only)", () => {
    const old = "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3";
    const s = labState({ smtpd_tls_protocols: old, smtpd_tls_mandatory_protocols: old }, "");
    expect(s).toMatchObject({ legacyEnabled: true, tls12Enabled: false });
  });

  it("cannot tell when a value is unknown syntax", () => {
    const s = labState({ ...compliantMain, smtpd_tls_protocols: "TLSv9" }, "");
    expect(s).toMatchObject({ legacyEnabled: null, tls12Enabled: null });
  });

  it("needs config_directory from postconf", () => {
    expect(interpretPostfix({ basics: "", values: "", expanded: null, defaults: "", explicit: "", master: "", masterExpanded: null, raw: [], collectedAt: new Date() })).toMatch(/config_directory/);
  });
});

describe("Postfix plans (dry-run diff)", () => {
  const row = (c: { path: string; value: string; from: unknown; to: unknown }) => [c.path, c.value, c.from, c.to];

  it("disable-legacy on mx-legacy sets the four parameters to >=TLSv1.2", () => {
    const s = labState({ smtpd_tls_protocols: ">=TLSv1", smtpd_tls_mandatory_protocols: ">=TLSv1", smtp_tls_protocols: ">=TLSv1", smtp_tls_mandatory_protocols: ">=TLSv1" }, "");
    expect(planPostfix(s, "disable-legacy").map(row)).toEqual([
      ["/etc/postfix/main.cf", "smtpd_tls_protocols", ">=TLSv1", ">=TLSv1.2"],
      ["/etc/postfix/main.cf", "smtpd_tls_mandatory_protocols", ">=TLSv1", ">=TLSv1.2"],
      ["/etc/postfix/main.cf", "smtp_tls_protocols", ">=TLSv1", ">=TLSv1.2"],
      ["/etc/postfix/main.cf", "smtp_tls_mandatory_protocols", ">=TLSv1", ">=TLSv1.2"],
    ]);
  });

  it("disable-legacy on mx-submission fixes only the master.cf overrides (postconf -P)", () => {
    const plan = planPostfix(labState(compliantMain, submissionOverrides), "disable-legacy");
    expect(plan.map(row)).toEqual([
      ["/etc/postfix/master.cf", "submission/inet/smtpd_tls_mandatory_protocols", ">=TLSv1.1", ">=TLSv1.2"],
      ["/etc/postfix/master.cf", "submission/inet/smtpd_tls_protocols", ">=TLSv1.1", ">=TLSv1.2"],
    ]);
    expect(plan.map((c) => c.scope)).toEqual(["master:submission/inet", "master:submission/inet"]);
  });

  it("disable-legacy on an unset parameter plans from null (absent) and on old Postfix uses the exclusion syntax", () => {
    const plan = planPostfix(labState({}, "", "3.4.14"), "disable-legacy");
    expect(plan.map(row)[0]).toEqual(["/etc/postfix/main.cf", "smtpd_tls_protocols", null, "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"]);
  });

  it("disable-legacy leaves compliant values in the operator's own syntax", () => {
    const legacySyntax = "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1";
    const s = labState({ smtpd_tls_protocols: legacySyntax, smtpd_tls_mandatory_protocols: legacySyntax, smtp_tls_protocols: ">=TLSv1.2", smtp_tls_mandatory_protocols: ">=TLSv1.2" }, "");
    expect(planPostfix(s, "disable-legacy")).toEqual([]);
  });

  it("enable-tls12 adds TLS 1.2 and nothing else (mx-tls10only)", () => {
    const old = "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3";
    const s = labState({ smtpd_tls_protocols: old, smtpd_tls_mandatory_protocols: old }, "");
    expect(planPostfix(s, "enable-tls12").map(row)).toEqual([
      ["/etc/postfix/main.cf", "smtpd_tls_protocols", old, "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3"],
      ["/etc/postfix/main.cf", "smtpd_tls_mandatory_protocols", old, "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3"],
    ]);
  });

  it("enable-tls12 on the client side fills the gap below TLS 1.2: a client never offers a version above one (lab: mx-tls10only's smtp_tls_*)", () => {
    const old = "!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3";
    const s = labState({ smtp_tls_protocols: old, smtp_tls_mandatory_protocols: old }, "");
    const plan = planPostfix(s, "enable-tls12");
    expect(plan.map(row)).toEqual([
      ["/etc/postfix/main.cf", "smtp_tls_protocols", old, ">=TLSv1, <=TLSv1.2"],
      ["/etc/postfix/main.cf", "smtp_tls_mandatory_protocols", old, ">=TLSv1, <=TLSv1.2"],
    ]);
    expect(plan[0]!.reason).toBe("enable TLS 1.2: smtp_tls_protocols allows TLS 1.0 (TLS 1.1 enabled too: a client never offers a version above a gap)");
  });

  it("enable-tls12 is empty where TLS 1.2 is already on", () => {
    expect(planPostfix(labState({}, submissionOverrides), "enable-tls12")).toEqual([]);
  });

  it("applies to Linux hosts with the postfix role only", () => {
    expect(postfixPlaybook.appliesTo({ name: "mx1", platform: "linux", roles: ["postfix"] })).toBe(true);
    expect(postfixPlaybook.appliesTo({ name: "web1", platform: "linux", roles: ["nginx"] })).toBe(false);
    expect(postfixPlaybook.appliesTo({ name: "ex1", platform: "windows", roles: ["postfix"] })).toBe(false);
  });
});

describe("Postfix as it behaves: directions, the OpenSSL level, postscreen/tlsproxy, policy maps", () => {
  const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");
  const openssl = { argv: ["sh"], exitCode: 0, stdout: fixture("openssl-policy-debian12.out"), stderr: "" };
  const names = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols"];
  function captured(main: Record<string, string>, opts: { tls?: string; services?: string; policy?: string; master?: string } = {}): PostfixState {
    const lines = (f: (n: string) => string) => names.map((n) => `${n} = ${f(n)}`).join("\n") + "\n";
    const state = interpretPostfix({
      basics: "mail_version = 3.7.11\nconfig_directory = /etc/postfix\nsmtpd_tls_security_level = may\n",
      values: lines((n) => main[n] ?? ">=TLSv1"),
      expanded: null,
      defaults: lines(() => ">=TLSv1"),
      explicit: Object.entries(main).map(([k, v]) => `${k} = ${v}`).join("\n") + "\n",
      master: opts.master ?? "",
      masterExpanded: null,
      tls: opts.tls ?? fixture("postconf-tls-postscreen.out"),
      services: opts.services ?? fixture("postconf-M-postscreen.out"),
      openssl,
      policy: opts.policy ?? fixture("postmap-policy.out"),
      raw: [],
      collectedAt: new Date("2026-12-07T10:00:00Z"),
    });
    if (typeof state === "string") throw new Error(state);
    return state;
  }
  const side = (s: PostfixState, d: "inbound" | "outbound") => s.sides.find((x) => x.direction === d);

  it("smtpd_* is inbound, smtp_* outbound; Postfix's stock cipher lists keep TLS 1.0/1.1 (Postfix sets security level 0 itself)", () => {
    const s = captured({ smtpd_tls_protocols: ">=TLSv1.2", smtpd_tls_mandatory_protocols: ">=TLSv1.2" }, { policy: "", services: "" });
    expect(s.settings.filter((x) => x.direction === "outbound").map((x) => x.setting)).toEqual(["smtp_tls_protocols", "smtp_tls_mandatory_protocols"]);
    const client = s.settings.find((x) => x.setting === "smtp_tls_protocols")!;
    expect(client).toMatchObject({ enabled: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] });
    expect(client.library).toBeUndefined();
    expect(side(s, "inbound")).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
    expect(side(s, "outbound")).toMatchObject({ legacyEnabled: true, tls12Enabled: true, summary: expect.stringMatching(/^TLS 1.0\/1.1 enabled by main.cf: smtp_tls_protocols = >=TLSv1/) });
    expect(s.openssl?.version).toBe("3.0.22");
  });

  it("a cipher list with @SECLEVEL=1 or more makes OpenSSL 3 refuse what >=TLSv1 allows", () => {
    const tls = fixture("postconf-tls-postscreen.out").replace(/^tls_medium_cipherlist = (.*)$/m, "tls_medium_cipherlist = $1:@SECLEVEL=1");
    const s = captured({ smtpd_tls_protocols: ">=TLSv1" }, { tls, policy: "" });
    expect(side(s, "inbound")).toMatchObject({ legacyEnabled: false });
    expect(s.settings.find((x) => x.setting === "smtp_tls_protocols")!.library).toMatch(/^OpenSSL 3.0.22 refuses TLS 1.0\/1.1 at security level 1 \(its cipher list\); the setting alone allows TLS 1.0-1.3$/);
  });

  it("postscreen on smtp/inet adds tlsproxy's own protocols to the inbound side", () => {
    const tls = fixture("postconf-tls-postscreen.out").replace(/^tls_medium_cipherlist = .*$/m, "tls_medium_cipherlist = ALL:@SECLEVEL=0");
    const s = captured({ ...Object.fromEntries(names.map((n) => [n, ">=TLSv1.2"])) }, { tls, policy: "" });
    expect(s.postscreenServices).toEqual(["smtp"]);
    const proxy = s.settings.filter((x) => x.scope.includes("postscreen"));
    expect(proxy.map((x) => [x.setting, x.value, x.direction])).toEqual([
      ["tlsproxy_tls_protocols", ">=TLSv1", "inbound"],
      ["tlsproxy_tls_mandatory_protocols", ">=TLSv1.2", "inbound"],
    ]);
    expect(side(s, "inbound")).toMatchObject({ legacyEnabled: true, summary: expect.stringContaining("master.cf smtp (postscreen, tlsproxy): tlsproxy_tls_protocols = >=TLSv1") });
    expect(side(s, "outbound")).toMatchObject({ legacyEnabled: false });
  });

  it("smtp_tls_policy_maps protocols= count for the outbound side, per destination", () => {
    const tls = fixture("postconf-tls-postscreen.out").replace(/^tls_medium_cipherlist = .*$/m, "tls_medium_cipherlist = ALL:@SECLEVEL=0");
    const s = captured({ ...Object.fromEntries(names.map((n) => [n, ">=TLSv1.2"])) }, { tls });
    expect(s.policyEntries).toContainEqual({ map: "hash:/tmp/cap/pf/tls_policy_hash", destination: "legacy.example", level: "may", protocols: "!SSLv2:!SSLv3" });
    expect(side(s, "outbound")).toMatchObject({ legacyEnabled: true, summary: expect.stringContaining("smtp_tls_policy_maps texthash:/tmp/cap/pf/tls_policy legacy.example: protocols = !SSLv2:!SSLv3") });
    const none = captured({ ...Object.fromEntries(names.map((n) => [n, ">=TLSv1.2"])) }, { policy: "@@map hash:/etc/postfix/tls_policy\n[contoso-com.mail.protection.outlook.com]\tnone\n" });
    expect(side(none, "outbound")).toMatchObject({ tls12Enabled: false, summary: expect.stringContaining("[contoso-com.mail.protection.outlook.com]: level = none") });
    expect(captured({}, { policy: "@@map texthash:/x\n@@failed texthash:/x\n" }).notes).toContain("smtp_tls_policy_maps texthash:/x could not be listed (postmap -s)");
  });

  it("smtp_tls_security_level = none (or empty): the outbound side sends no STARTTLS", () => {
    const tls = fixture("postconf-tls-postscreen.out").replace(/^smtp_tls_security_level = .*$/m, "smtp_tls_security_level =");
    const s = captured({}, { tls, policy: "" });
    expect(s.smtpTlsSecurityLevel).toBe("none");
    expect(side(s, "outbound")).toEqual({ direction: "outbound", legacyEnabled: false, tls12Enabled: false, tlsOffered: false, summary: "smtp_tls_security_level = (empty): no STARTTLS to other servers, Microsoft 365 included" });
  });

  it("without the TLS query (an older Postfix) nothing is narrowed and the note says so", () => {
    const s = captured({}, { tls: "", services: "", policy: "" });
    expect(side(s, "inbound")).toMatchObject({ legacyEnabled: true });
    expect(s.notes[0]).toMatch(/cipher lists not read/);
  });
});
