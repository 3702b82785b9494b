// Seeds the bench database with set-based SQL (generate_series): 50,000 hosts with tags, groups,
// a realistic status mix and ~2 endpoints each, 10 probe results per endpoint (1,000,000 rows),
// a month of StatusHistory for the trend, and one admin to sign in with. Deterministic per host
// number, so two runs measure the same data.
import pg from "pg";

export interface SeedSize {
  hosts: number;
  probesPerEndpoint: number;
}

// Status by bucket (0-99) of a per-host hash: mostly compliant, a fifth still accepting TLS 1.0/1.1.
const STATUS_BUCKETS = `CASE
  WHEN b < 55 THEN 'compliant' WHEN b < 75 THEN 'noncompliant' WHEN b < 80 THEN 'at_risk'
  WHEN b < 85 THEN 'unreachable' WHEN b < 92 THEN 'unknown' WHEN b < 94 THEN 'pending_reboot'
  WHEN b < 96 THEN 'mismatch' WHEN b < 97 THEN 'error' ELSE 'excepted' END`;

const P = (o10: string, o11: string, o12: string, o13: string) =>
  JSON.stringify({ TLSv1: { outcome: o10, reason: o10 === "accepted" ? null : "protocol_version" }, "TLSv1.1": { outcome: o11, reason: o11 === "accepted" ? null : "protocol_version" }, "TLSv1.2": { outcome: o12, reason: o12 === "accepted" ? null : "handshake_failure" }, "TLSv1.3": { outcome: o13, reason: o13 === "accepted" ? null : "protocol_version" } });
const MODERN = P("rejected", "rejected", "accepted", "accepted");
const LEGACY = P("accepted", "accepted", "accepted", "rejected");
const TLS10 = P("accepted", "rejected", "rejected", "rejected");
const UNKNOWN = P("unknown", "unknown", "unknown", "unknown");

export async function seedBench(client: pg.Client, size: SeedSize, adminEmail: string, adminPasswordHash: string, log: (s: string) => void) {
  const step = async (label: string, sql: string, params: unknown[] = []) => {
    const t0 = performance.now();
    const r = await client.query(sql, params);
    log(`  ${label}: ${r.rowCount ?? 0} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  // Bulk load: no need to wait for each commit's WAL flush; index builds get room to sort.
  await client.query("SET synchronous_commit = off");
  await client.query("SET maintenance_work_mem = '512MB'");
  // Loads the big table without its secondary indexes and without a foreign-key trigger call per
  // row (the rows reference endpoints inserted just before), then builds the indexes once: at
  // 500,000 hosts (10,000,000 probe results) that is minutes instead of most of an hour.
  const bulkLoad = async (table: string, label: string, sql: string, params: unknown[]) => {
    const indexes = (await client.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename = $1
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
      [table],
    )).rows;
    for (const ix of indexes) await client.query(`DROP INDEX "${ix.name}"`);
    await client.query("SET session_replication_role = replica");
    try {
      await step(label, sql, params);
    } finally {
      await client.query("SET session_replication_role = DEFAULT");
    }
    for (const ix of indexes) await step(`index ${ix.name}`, ix.def);
  };

  await step(
    "hosts",
    `INSERT INTO "Host" (id, name, address, platform, roles, tags, "group", owner, transport, port, "createdAt", "updatedAt")
     SELECT gen_random_uuid(),
            'h' || lpad(n::text, 6, '0') || '.bench.example.test',
            '10.' || (n / 65536) || '.' || ((n / 256) % 256) || '.' || (n % 256),
            (CASE WHEN n % 4 = 0 THEN 'windows' ELSE 'linux' END)::"Platform",
            CASE n % 4 WHEN 0 THEN ARRAY['exchange'] WHEN 1 THEN ARRAY['postfix'] WHEN 2 THEN ARRAY['nginx'] ELSE ARRAY['dovecot'] END,
            ARRAY['site-' || lpad((n % 40)::text, 2, '0'), CASE WHEN n % 4 = 2 THEN 'web' ELSE 'mail' END, CASE WHEN n % 3 = 0 THEN 'staging' ELSE 'prod' END]
              || CASE WHEN n % 5 = 0 THEN ARRAY['dmz'] ELSE ARRAY[]::text[] END,
            'group-' || lpad((n % 50)::text, 2, '0'),
            'team-' || (n % 12) || '@example.test',
            (CASE WHEN n % 4 = 0 THEN 'winrm' ELSE 'ssh' END)::"Transport",
            CASE WHEN n % 4 = 0 THEN 5986 ELSE 22 END,
            now() - interval '90 days', now()
     FROM generate_series(1, $1::int) n`,
    [size.hosts],
  );

  await step(
    "host statuses",
    `INSERT INTO "HostStatus" ("hostId", status, explanation, "firstFailingAt", "lastChangedAt", "lastScanAt")
     SELECT id, s::"ComplianceStatus",
            CASE s WHEN 'compliant' THEN 'TLS 1.0/1.1 rejected and TLS 1.2+ accepted on 25/smtp, 587/submission at 2026-11-27 02:00 UTC'
                   WHEN 'noncompliant' THEN 'TLS 1.0 and TLS 1.1 accepted on 25/smtp at 2026-11-27 02:00 UTC'
                   WHEN 'at_risk' THEN 'TLS 1.2 not accepted on 25/smtp at 2026-11-27 02:00 UTC: mail flow with Microsoft 365 fails'
                   WHEN 'unreachable' THEN '25/smtp unreachable at 2026-11-27 02:00 UTC: connect ETIMEDOUT'
                   WHEN 'unknown' THEN 'Never scanned'
                   ELSE s || ' (bench)' END,
            CASE WHEN s IN ('noncompliant', 'at_risk', 'mismatch') THEN now() - ((n % 45) || ' days')::interval - ((n % 24) || ' hours')::interval END,
            now() - ((n % 30) || ' days')::interval,
            CASE WHEN s <> 'unknown' THEN now() - ((n % 48) || ' hours')::interval END
     FROM (SELECT id, n, ${STATUS_BUCKETS} AS s
           FROM (SELECT id, substring(name from 2 for 6)::int AS n, (abs(hashtext(name)) % 100) AS b FROM "Host") x) y`,
  );

  await step(
    "endpoints",
    `INSERT INTO "Endpoint" (id, "hostId", port, service, "tlsStart", "createdAt")
     SELECT gen_random_uuid(), h.id, e.port, e.service, e.tls::"TlsStart", h."createdAt"
     FROM "Host" h
     JOIN LATERAL (VALUES
       ('exchange', 25, 'smtp', 'starttls'), ('exchange', 587, 'submission', 'starttls'),
       ('postfix', 25, 'smtp', 'starttls'), ('postfix', 587, 'submission', 'starttls'),
       ('nginx', 443, 'https', 'implicit'), ('nginx', 8443, 'https', 'implicit'),
       ('dovecot', 143, 'imap', 'starttls'), ('dovecot', 993, 'imaps', 'implicit')
     ) AS e(role, port, service, tls) ON e.role = h.roles[1]`,
  );

  // 10 scans per endpoint over the last month; the newest matches the host's status.
  await bulkLoad(
    "ProbeResult",
    "probe results",
    `INSERT INTO "ProbeResult" ("endpointId", "probedAt", starttls, protocols, ciphers, certificate, verdict, error, "durationMs")
     SELECT e.id,
            now() - ((k * 3) || ' days')::interval - ((abs(hashtext(e.id::text)) % 1440) || ' minutes')::interval,
            CASE WHEN e."tlsStart" = 'starttls' THEN 'offered' ELSE 'not-applicable' END,
            (CASE v WHEN 'compliant' THEN $1 WHEN 'noncompliant' THEN $2 WHEN 'at_risk' THEN $3 ELSE $4 END)::jsonb,
            CASE WHEN v IN ('compliant', 'noncompliant') THEN '{"TLSv1.2":"ECDHE-RSA-AES256-GCM-SHA384","TLSv1.3":"TLS_AES_256_GCM_SHA384"}'::jsonb END,
            CASE WHEN v <> 'unreachable' THEN jsonb_build_object('subject', 'CN=bench', 'issuer', 'CN=Bench CA', 'notAfter', '2027-06-01T00:00:00Z', 'san', jsonb_build_array('bench')) END,
            v, CASE WHEN v = 'unreachable' THEN 'connect ETIMEDOUT' END, 200 + (k * 37) % 900
     FROM (
       SELECT e.id, e."tlsStart", k,
              CASE WHEN k = 0 THEN CASE s.status WHEN 'compliant' THEN 'compliant' WHEN 'noncompliant' THEN 'noncompliant' WHEN 'at_risk' THEN 'at_risk' WHEN 'unreachable' THEN 'unreachable' ELSE 'compliant' END
                   WHEN (abs(hashtext(e.id::text)) + k) % 3 = 0 THEN 'noncompliant' ELSE 'compliant' END AS v
       FROM "Endpoint" e JOIN "HostStatus" s ON s."hostId" = e."hostId"
       CROSS JOIN generate_series(0, $5::int - 1) k
     ) e`,
    [MODERN, LEGACY, TLS10, UNKNOWN, size.probesPerEndpoint],
  );

  // A month of history: 40% of the scanned hosts were noncompliant three to four weeks ago and
  // changed to their current status since; the others have had their status for a month.
  await step(
    "status history",
    `INSERT INTO "StatusHistory" ("hostId", at, status, previous, explanation)
     SELECT s."hostId", now() - ((20 + n % 10) || ' days')::interval,
            CASE WHEN n % 10 < 4 THEN 'noncompliant'::"ComplianceStatus" ELSE s.status END, NULL::"ComplianceStatus", 'bench'
     FROM "HostStatus" s JOIN LATERAL (SELECT substring(h.name from 2 for 6)::int AS n FROM "Host" h WHERE h.id = s."hostId") h ON TRUE
     WHERE s.status <> 'unknown'
     UNION ALL
     SELECT s."hostId", now() - ((1 + n % 19) || ' days')::interval - ((n % 24) || ' hours')::interval, s.status, 'noncompliant'::"ComplianceStatus", 'bench'
     FROM "HostStatus" s JOIN LATERAL (SELECT substring(h.name from 2 for 6)::int AS n FROM "Host" h WHERE h.id = s."hostId") h ON TRUE
     WHERE s.status NOT IN ('unknown', 'noncompliant') AND n % 10 < 4`,
  );

  await step(
    "admin",
    `INSERT INTO "User" (id, email, name, role, "passwordHash", "updatedAt") VALUES (gen_random_uuid(), $1, 'Bench admin', 'admin', $2, now())
     ON CONFLICT (email) DO UPDATE SET "passwordHash" = EXCLUDED."passwordHash", role = 'admin', "disabledAt" = NULL`,
    [adminEmail, adminPasswordHash],
  );
  await step("vacuum analyze", "VACUUM ANALYZE");
}
