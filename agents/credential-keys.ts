// What a worker checks about its credential keys when it starts, and the re-sealing of envelopes
// written before credentials were sealed to a public key ("v1") or sealed to a retired key.
import { logger } from "../lib/log";
import { openingKeys, sealingKey } from "../lib/credentials/keys";
import { rotateCredentialKeys } from "../lib/credentials/service";

export async function resealCredentialsAtStart(): Promise<void> {
  let held: string[];
  let current: string;
  try {
    held = openingKeys().map((k) => k.id);
    current = sealingKey().id;
  } catch (err) {
    // Scans need no credential: the worker still runs, and audits say why they cannot log in.
    logger.error({ err }, "credential keys unusable: config audits and rollouts will fail until this is fixed");
    return;
  }
  if (held.length === 0) {
    logger.warn("this worker holds no credential private key (TLSFLEET_CREDENTIAL_PRIVATE_KEYS): config audits and rollouts will fail");
    return;
  }
  if (!held.includes(current)) logger.error({ sealingKey: current, held }, "credentials are sealed to a key this worker does not hold: give it that key's private key file");
  try {
    const r = await rotateCredentialKeys();
    if (r.rotated > 0) logger.info({ rotated: r.rotated, total: r.total, keyId: current }, "re-sealed credentials to the current key");
    if (r.unreadable.length > 0) logger.error({ unreadable: r.unreadable }, "credentials no key of this worker opens: replace their secrets in Settings > Credentials");
  } catch (err) {
    logger.error({ err }, "re-sealing credentials failed; they are retried at the next worker start");
  }
}
