import bcrypt from "bcryptjs";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { env } from "../env";
import { WorkLimiter } from "./work-limiter";
import { bcryptCompare, bcryptHash } from "./bcrypt-threads";

// Cost 12 is ~250 ms on these 2-core machines: slow enough to hurt offline guessing,
// fast enough that a sign-in does not feel stuck.
const BCRYPT_COST = 12;

export const PasswordSchema = z
  .string()
  .min(12, "Password must be at least 12 characters")
  .max(200, "Password must be at most 200 characters");

// Every bcrypt of this process goes through one limiter (work-limiter.ts says why) and runs in a
// worker thread per slot (bcrypt-threads.ts). A full queue
// refuses with WorkLimiterBusy, which sign-in answers with 503 and a "try again" message.
export const passwordWork = new WorkLimiter({
  // Leave a core to the rest of the web process: on the 2-core machines here one check at a time
  // kept /api/health at 1.2 s during a flood where two at a time gave 2.5 s (load average ~10).
  concurrency: env.TLSFLEET_PASSWORD_WORK_CONCURRENCY ?? Math.min(2, Math.max(1, availableParallelism() - 1)),
  maxQueue: env.TLSFLEET_PASSWORD_WORK_QUEUE,
  maxWaitMs: env.TLSFLEET_PASSWORD_WORK_WAIT_MS,
});

export function hashPassword(password: string): Promise<string> {
  return passwordWork.run(() => bcryptHash(password, BCRYPT_COST));
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return passwordWork.run(() => bcryptCompare(password, hash));
}

// A hash to compare against when the account does not exist, so timing does not reveal which
// e-mail addresses have accounts.
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= bcrypt.hash("not-a-real-password", BCRYPT_COST);
  dummyHash.catch(() => (dummyHash = undefined));
  return dummyHash;
}

/** Readable one-time password: 20 chars from an alphabet without look-alikes. */
export function generatePassword(length = 20): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}
