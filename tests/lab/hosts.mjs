// The lab fleet: which hosts exist, what each one runs and what a correct prober must report
// for every endpoint. `lab.mjs` builds the servers from this table and copies the expectations
// into .state/fleet.json; tests compare the wire (tlsfleet and sslscan) against them.
//
// Expectations are written by hand from the server configuration, not derived from it, so a
// lab daemon that silently ignores a setting shows up as a failing test instead of a quiet lie.

const ALL = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const MODERN = { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const FROM_TLS11 = { TLSv1: "rejected", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" };
const UP_TO_TLS12 = { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" };
const TLS10_ONLY = { TLSv1: "accepted", "TLSv1.1": "rejected", "TLSv1.2": "rejected", "TLSv1.3": "rejected" };
// A service that never reaches a handshake cannot tell us anything about any version.
const NOTHING = { TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "unknown", "TLSv1.3": "unknown" };

// OpenSSL 3 refuses TLS 1.0/1.1 above security level 0, whatever the protocol setting says.
export const LEGACY_CIPHERS = "ALL:@SECLEVEL=0";

/**
 * main.cf's four protocol lists: what smtpd accepts inbound and smtp offers outbound, each for
 * opportunistic and mandatory TLS alike (as every lab host sets them).
 */
function postfixProtocols(inbound, outbound = inbound) {
  return { smtpd_tls_protocols: inbound, smtpd_tls_mandatory_protocols: inbound, smtp_tls_protocols: outbound, smtp_tls_mandatory_protocols: outbound };
}

/**
 * The four listeners every lab Dovecot has (lab.mjs dovecotConfig: IMAP and POP3 with STARTTLS,
 * IMAPS and POP3S), all with the one minimum protocol of that host.
 */
function dovecotEndpoints(expected, expectedVerdict) {
  return [
    { port: 143, service: "imap", expected, expectedVerdict },
    { port: 110, service: "pop3", expected, expectedVerdict },
    { port: 993, service: "imaps", expected, expectedVerdict },
    { port: 995, service: "pop3s", expected, expectedVerdict },
  ];
}

/** Hosts of the normal lab profile. Addresses live on the lab bridge 198.18.0.0/16. */
export const HOSTS = [
  {
    name: "mx-legacy",
    address: "198.18.0.11",
    roles: ["postfix"],
    // Debian's Postfix 3.7 default (>=TLSv1) plus the cipher level OpenSSL 3 needs to honour it.
    postfix: { main: { ...postfixProtocols(">=TLSv1"), tls_medium_cipherlist: LEGACY_CIPHERS } },
    endpoints: [{ port: 25, service: "smtp", expected: ALL, expectedVerdict: "noncompliant" }],
  },
  {
    name: "mx-modern",
    address: "198.18.0.12",
    roles: ["postfix"],
    postfix: { main: postfixProtocols(">=TLSv1.2") },
    endpoints: [{ port: 25, service: "smtp", expected: MODERN, expectedVerdict: "compliant" }],
  },
  {
    name: "mx-submission",
    address: "198.18.0.13",
    roles: ["postfix"],
    // Port 25 is fixed in main.cf, but the submission service overrides it in master.cf with -o,
    // as many real installations do: a fix that only runs `postconf -e` leaves 587 accepting TLS 1.1.
    postfix: {
      main: { ...postfixProtocols(">=TLSv1.2"), tls_medium_cipherlist: LEGACY_CIPHERS },
      submission: { smtpd_tls_security_level: "encrypt", smtpd_tls_protocols: ">=TLSv1.1", smtpd_tls_mandatory_protocols: ">=TLSv1.1", smtpd_sasl_auth_enable: "no" },
    },
    endpoints: [
      { port: 25, service: "smtp", expected: MODERN, expectedVerdict: "compliant" },
      { port: 587, service: "submission", expected: FROM_TLS11, expectedVerdict: "noncompliant" },
    ],
  },
  {
    name: "mx-notls",
    address: "198.18.0.14",
    roles: ["postfix"],
    // No STARTTLS in the EHLO reply: the "451 5.7.3 Must issue a STARTTLS command first" peer.
    postfix: { main: { smtpd_tls_security_level: "none" }, noTls: true },
    endpoints: [{ port: 25, service: "smtp", starttls: "not-offered", expected: NOTHING, expectedVerdict: "no-tls" }],
  },
  {
    name: "mx-tls10only",
    address: "198.18.0.15",
    roles: ["postfix"],
    // The server from the KB article: TLS 1.0 only, written in the pre-3.6 exclusion syntax that
    // old main.cf files still carry.
    postfix: { main: { ...postfixProtocols("!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3", "!SSLv2, !SSLv3"), tls_medium_cipherlist: LEGACY_CIPHERS } },
    endpoints: [{ port: 25, service: "smtp", expected: TLS10_ONLY, expectedVerdict: "at_risk" }],
  },
  {
    name: "web-legacy",
    address: "198.18.0.21",
    roles: ["nginx"],
    nginx: { protocols: "TLSv1 TLSv1.1 TLSv1.2", ciphers: LEGACY_CIPHERS },
    endpoints: [{ port: 443, service: "https", expected: UP_TO_TLS12, expectedVerdict: "noncompliant" }],
  },
  {
    name: "web-modern",
    address: "198.18.0.22",
    roles: ["nginx"],
    nginx: { protocols: "TLSv1.2 TLSv1.3", ciphers: null },
    endpoints: [{ port: 443, service: "https", expected: MODERN, expectedVerdict: "compliant" }],
  },
  {
    name: "imap-legacy",
    address: "198.18.0.31",
    roles: ["dovecot"],
    dovecot: { minProtocol: "TLSv1", ciphers: LEGACY_CIPHERS },
    endpoints: dovecotEndpoints(ALL, "noncompliant"),
  },
  {
    name: "imap-modern",
    address: "198.18.0.32",
    roles: ["dovecot"],
    dovecot: { minProtocol: "TLSv1.2", ciphers: null },
    endpoints: dovecotEndpoints(MODERN, "compliant"),
  },
  {
    name: "mx-limited",
    address: "198.18.0.16",
    // One Postfix answering on three addresses that allows a client 2 sessions at once over all
    // of them (smtpd_client_connection_count_limit counts per client, per service, whatever
    // address was dialled); a third is greeted "421 4.7.0 ... too many connections from ...".
    // The prober's per-server budget has to learn that and still finish every matrix.
    extraAddresses: ["198.18.0.17", "198.18.0.18"],
    clientConnectionLimit: 2,
    roles: ["postfix"],
    postfix: {
      main: {
        ...postfixProtocols(">=TLSv1"),
        tls_medium_cipherlist: LEGACY_CIPHERS,
        smtpd_client_connection_count_limit: "2", // clientConnectionLimit above
        // Its default, $mynetworks, must not exempt the prober.
        smtpd_client_event_limit_exceptions: "",
      },
    },
    endpoints: [{ port: 25, service: "smtp", expected: ALL, expectedVerdict: "noncompliant" }],
  },
];

/**
 * Misbehaving peers from tests/lab/peers/ (written with the prober's tests), each in its own lab
 * host. A file that carries a `// lab-peer: ...` line describes itself (see README.md); these are
 * the ones known when the lab was written. Files in neither place are helpers and are not started.
 * `starttls` is what the prober must report ("not-applicable" also means "never got that far").
 */
export const PEERS = {
  "drop-after-starttls": {
    address: "198.18.0.41",
    port: 25,
    service: "smtp",
    starttls: "offered",
    expected: NOTHING,
    // Reached, STARTTLS accepted, then nothing about any version: every outcome unknown.
    expectedVerdict: "error",
  },
  "endless-banner": {
    address: "198.18.0.42",
    port: 25,
    service: "smtp",
    starttls: "not-applicable",
    expected: NOTHING,
    expectedVerdict: "error",
  },
  "garbage-after-hello": {
    address: "198.18.0.43",
    port: 443,
    service: "https",
    starttls: "not-applicable",
    expected: NOTHING,
    expectedVerdict: "error",
  },
  "never-greets": {
    address: "198.18.0.44",
    port: 25,
    service: "smtp",
    starttls: "not-applicable",
    expected: NOTHING,
    expectedVerdict: "unreachable",
  },
  "slow-greeting": {
    address: "198.18.0.45",
    port: 25,
    service: "smtp",
    starttls: "offered",
    // A 3 s greeting cut mid-line, then real TLS 1.2-1.3 (the peer's defaults).
    expected: MODERN,
    expectedVerdict: "compliant",
  },
};
/** Peers that describe themselves with a lab-peer line get addresses from here up. */
export const PEER_ADDRESS_BASE = 60;
export const PEER_EXPECTED = NOTHING;

/** The bench layout: one namespace, many addresses, one nginx and one Postfix on all of them. */
export const BENCH = {
  name: "bench",
  rootAddress: "198.19.0.1",
  // 198.19.1.1 - 198.19.1.250: 250 addresses x (443 + 25) = 500 endpoints.
  addresses: Array.from({ length: 250 }, (_, i) => `198.19.1.${i + 1}`),
  // The 50 ms RTT path: a delaying relay in the same namespace on these ports forwards to the
  // real port on the address the client connected to.
  delayedPorts: { 10443: 443, 10025: 25 },
  delayMs: 25,
  // `bench-up --distinct-servers`: the same Postfix, but every address has a master.cf service of
  // its own that greets with its own name, so the prober sees 250 servers with a budget each
  // instead of one server with one budget (scripts/bench/workers.ts measures worker scaling on it).
  layouts: ["one-server", "distinct-servers"],
  serverName: (i) => `bench-mx-${String(i + 1).padStart(3, "0")}.lab.invalid`,
};

/**
 * The rollout bench layout (`rollout-bench-up`): 50 Postfix hosts, each its own namespace with
 * its own sshd and Postfix like mx-legacy (TLS 1.0-1.3 on port 25), for timing a fleet fix over
 * SSH (scripts/bench/rollout.ts). Deliberately outside the normal lab's names (namespaces
 * `tlsf-*`, veths `tlsfv*`, bridge tlsf-br0, state under .state/hosts): `up` and `down` of the
 * normal lab, from this checkout or an older one, never touch it; only rollout-bench-down does.
 * Its own bridge holds 198.18.3.254/24, more specific than tlsf-br0's 198.18.0.1/16, which the
 * normal lab deletes and re-creates at will.
 */
const MX_LEGACY = HOSTS.find((h) => h.name === "mx-legacy");
export const ROLLOUT_BENCH = {
  name: "rollout-bench",
  bridge: "tlsfrb-br0",
  rootAddress: "198.18.3.254",
  prefixLen: 24,
  namespacePrefix: "tlsfrb-",
  vethPrefix: "tlsfrbv",
  hosts: Array.from({ length: 50 }, (_, i) => {
    const n = String(i + 1).padStart(2, "0");
    return { name: `rollout-mx-${n}`, namespace: `tlsfrb-${n}`, veth: `tlsfrbv${n}`, address: `198.18.3.${i + 1}` };
  }),
  postfix: { main: { ...MX_LEGACY.postfix.main } },
  endpoints: MX_LEGACY.endpoints,
};
