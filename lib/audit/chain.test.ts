import { describe, expect, it } from "vitest";
import { canonicalJson, ChainWalker, eventHash, GENESIS_HASH, type ChainEvent, type CheckpointClaim } from "./chain";

function chain(n: number): ChainEvent[] {
  const events: ChainEvent[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const e = { id: BigInt(i + 1), seq: BigInt(i + 1), at: new Date(Date.UTC(2026, 10, 28, 10, i)), actor: "a@example.test", actorId: null, action: "host.create", target: `host:${i}`, details: { i, nested: { b: 1, a: 2 } }, prevHash: prev };
    const hash = eventHash(e);
    events.push({ ...e, hash });
    prev = hash;
  }
  return events;
}

/** Re-chains events from `from` on, as an attacker with the database and sha256 could. */
function rechain(events: ChainEvent[], from: number): ChainEvent[] {
  const out = events.map((e) => ({ ...e }));
  for (let i = from; i < out.length; i++) {
    out[i].prevHash = i === 0 ? GENESIS_HASH : out[i - 1].hash;
    out[i].hash = eventHash(out[i]);
  }
  return out;
}

async function firstProblem(events: ChainEvent[], claims: CheckpointClaim[] = []) {
  const byHash = new Map(events.map((e) => [e.hash, { seq: e.seq }]));
  const walker = new ChainWalker(async (h) => byHash.get(h) ?? null, claims);
  for (const e of events) {
    const p = await walker.push(e);
    if (p) return p;
  }
  return walker.finish();
}

const claim = (e: ChainEvent, number = 1): CheckpointClaim => ({ number, at: new Date(Date.UTC(2026, 10, 28, 12)), seq: e.seq, hash: e.hash });

describe("audit hash chain", () => {
  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
  });

  it("accepts an intact chain, and one that reaches its checkpoint", async () => {
    const events = chain(5);
    expect(await firstProblem(events)).toBeNull();
    expect(await firstProblem(events, [claim(events[4])])).toBeNull();
  });

  it("names an edited event", async () => {
    const events = chain(5);
    events[2] = { ...events[2], details: { i: 99, nested: { a: 2, b: 1 } } };
    expect(await firstProblem(events)).toMatchObject({ kind: "edited", seq: 3n, eventId: "3" });
  });

  it("names a deleted event by the gap in positions", async () => {
    const events = chain(5);
    events.splice(1, 1);
    expect(await firstProblem(events)).toMatchObject({ kind: "deleted", seq: 2n, eventId: null, message: expect.stringContaining("event #2 is missing") });
  });

  it("names a deleted event when the rest was renumbered", async () => {
    const events = chain(5);
    events.splice(1, 1);
    events.forEach((e, i) => (e.seq = BigInt(i + 1)));
    expect(await firstProblem(events)).toMatchObject({ kind: "deleted", seq: 2n, eventId: "3" });
  });

  it("names an inserted event", async () => {
    const events = chain(5);
    const forged = { ...events[1], id: 99n, action: "user.create", prevHash: events[0].hash };
    forged.hash = eventHash(forged);
    events.splice(1, 0, forged);
    events.forEach((e, i) => (e.seq = BigInt(i + 1)));
    expect(await firstProblem(events)).toMatchObject({ kind: "inserted", seq: 2n, eventId: "99" });
  });

  it("names a reordered event", async () => {
    const events = chain(5);
    [events[1], events[3]] = [events[3], events[1]];
    events.forEach((e, i) => (e.seq = BigInt(i + 1)));
    expect(await firstProblem(events)).toMatchObject({ kind: "reordered", seq: 2n, eventId: "4" });
  });

  it("reports a truncated tail against the newest checkpoint", async () => {
    const events = chain(5);
    const c = claim(events[4], 2);
    expect(await firstProblem(events.slice(0, 3), [claim(events[1]), c])).toMatchObject({ kind: "truncated", seq: 4n, message: expect.stringContaining("checkpoint 2") });
  });

  it("catches a chain rewritten with valid hashes by the checkpoint it contradicts", async () => {
    const events = chain(5);
    const c = claim(events[3]);
    events[1] = { ...events[1], details: { i: 42 } };
    expect(await firstProblem(rechain(events, 1), [c])).toMatchObject({ kind: "checkpoint-mismatch", seq: 4n, eventId: "4" });
  });
});
