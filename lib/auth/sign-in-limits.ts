import "server-only";
// The sign-in counters in Postgres. One statement counts an attempt on both keys and returns the
// new counts (INSERT ... ON CONFLICT DO UPDATE takes the row lock, so concurrent attempts are
// serialised per key and each sees the count including every earlier one): there is no
// read-then-write window in which 20 parallel guesses all read "0 failures".
// Timestamps are UTC `timestamp(3)`, as Prisma writes them.
import { prisma } from "../db";
import { throttleDecision, WINDOW_MS, type CounterState, type ThrottleDecision } from "./throttle";

const accountKey = (email: string) => `account:${email}`;
const addressKey = (email: string, address: string) => `address:${email}|${address}`;

interface CounterRow {
  key: string;
  failures: number;
  secondsLeft: number;
}

/** Counts this attempt (as a failure until it succeeds) and says whether it may go on. */
export async function countSignInAttempt(email: string, address: string): Promise<ThrottleDecision> {
  const windowSeconds = WINDOW_MS / 1000;
  const rows = await prisma.$queryRaw<CounterRow[]>`
    INSERT INTO "SignInCounter" AS c ("key", "failures", "windowStart")
    VALUES (${accountKey(email)}, 1, now() AT TIME ZONE 'UTC'), (${addressKey(email, address)}, 1, now() AT TIME ZONE 'UTC')
    ON CONFLICT ("key") DO UPDATE SET
      "failures" = CASE WHEN c."windowStart" <= (now() AT TIME ZONE 'UTC') - make_interval(secs => ${windowSeconds}) THEN 1 ELSE c."failures" + 1 END,
      "windowStart" = CASE WHEN c."windowStart" <= (now() AT TIME ZONE 'UTC') - make_interval(secs => ${windowSeconds}) THEN now() AT TIME ZONE 'UTC' ELSE c."windowStart" END
    RETURNING "key", "failures",
      EXTRACT(EPOCH FROM (c."windowStart" + make_interval(secs => ${windowSeconds}) - (now() AT TIME ZONE 'UTC')))::float8 AS "secondsLeft"`;
  const counters: CounterState[] = rows.map((r) => ({ kind: r.key.startsWith("account:") ? "account" : "address", attempts: Number(r.failures), secondsLeft: Number(r.secondsLeft) }));
  return throttleDecision(counters);
}

/** A successful sign-in: this attempt was no failure, and this address has proven itself. */
export async function signInSucceeded(email: string, address: string): Promise<void> {
  await prisma.$transaction([
    prisma.signInCounter.deleteMany({ where: { key: addressKey(email, address) } }),
    prisma.$executeRaw`UPDATE "SignInCounter" SET "failures" = GREATEST("failures" - 1, 0) WHERE "key" = ${accountKey(email)}`,
  ]);
}

/** An attempt that never got to check the password (the server was busy): do not count it. */
export async function signInNotAttempted(email: string, address: string): Promise<void> {
  await prisma.$executeRaw`UPDATE "SignInCounter" SET "failures" = GREATEST("failures" - 1, 0) WHERE "key" IN (${accountKey(email)}, ${addressKey(email, address)})`;
}
