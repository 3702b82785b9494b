import { describe, expect, it } from "vitest";
import { canonicalJson, eventHash, findChainBreak, GENESIS_HASH } from "./chain";

function chain(n: number) {
  const events = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const e = { id: BigInt(i + 1), at: new Date(Date.UTC(2026, 10, 28, 10, i)), actor: "a@example.test", actorId: null, action: "host.create", target: `host:${i}`, details: { i, nested: { b: 1, a: 2 } }, prevHash: prev };
    const hash = eventHash(e);
    events.push({ ...e, hash });
    prev = hash;
  }
  return events;
}

describe("audit hash chain", () => {
  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
  });

  it("accepts an intact chain", () => {
    expect(findChainBreak(chain(5))).toBeNull();
  });

  it("detects an edited event", () => {
    const events = chain(5);
    events[2] = { ...events[2], details: { i: 99, nested: { a: 2, b: 1 } } };
    expect(findChainBreak(events)).toEqual({ id: "3", reason: "hash" });
  });

  it("detects a deleted event", () => {
    const events = chain(5);
    events.splice(1, 1);
    expect(findChainBreak(events)).toEqual({ id: "3", reason: "prev-hash" });
  });
});
