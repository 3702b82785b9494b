// The per-server budget split between worker processes (docs/domain.md "Pacing per server"): the
// shares of all workers add up to the budget, and a budget one worker learned binds the others.
import { describe, expect, it } from "vitest";
import { ConnectionGate, serverShare } from "./connection-gate";

/** Opens connections to the addresses of one server (greeting "mx.example") until the gate says wait. */
async function fill(gate: ConnectionGate, addresses: string[]): Promise<number> {
  for (const a of addresses) gate.identify(a, "mx.example");
  let opened = 0;
  // Two rounds: the per-address limit is 2, so only the server budget can stop the second.
  for (let round = 0; round < 2; round++) {
    for (const a of addresses) {
      const signal = AbortSignal.timeout(5);
      const slot = await gate.acquire(a, signal).catch(() => null);
      if (slot) opened++;
    }
  }
  return opened;
}

const addresses = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);

describe("serverShare", () => {
  it.each([
    // budget, workers: the shares by rank
    [40, 1, [40]],
    [40, 2, [20, 20]],
    [40, 3, [14, 13, 13]],
    [3, 2, [2, 1]],
    [7, 4, [2, 2, 2, 1]],
    [1, 1, [1]],
  ])("splits a budget of %i over %i workers as %j, adding up to the budget", (budget, workers, shares) => {
    const got = Array.from({ length: workers }, (_, rank) => serverShare(budget, workers, rank));
    expect(got).toEqual(shares);
    expect(got.reduce((a, b) => a + b, 0)).toBe(budget);
  });

  it("keeps one connection per worker when the budget is smaller than the number of workers", () => {
    expect(Array.from({ length: 3 }, (_, rank) => serverShare(2, 3, rank))).toEqual([1, 1, 1]);
  });

  it("adds up to at most the budget for every budget up to 64 and up to 8 workers", () => {
    for (let budget = 1; budget <= 64; budget++) {
      for (let workers = 1; workers <= 8; workers++) {
        const sum = Array.from({ length: workers }, (_, rank) => serverShare(budget, workers, rank)).reduce((a, b) => a + b, 0);
        expect(sum).toBe(Math.max(budget, workers));
      }
    }
  });
});

describe("ConnectionGate shares between workers", () => {
  it("lets each of two workers open only its half of a server's budget, 40 in all", async () => {
    const first = new ConnectionGate(2, 256, 40);
    const second = new ConnectionGate(2, 256, 40);
    first.setShare({ workers: 2, rank: 0 });
    second.setShare({ workers: 2, rank: 1 });
    expect(await fill(first, addresses)).toBe(20);
    expect(await fill(second, addresses)).toBe(20);
    expect(first.openToServer(addresses[0]!) + second.openToServer(addresses[0]!)).toBe(40);
  });

  it("lets waiting connections in when the share grows (the other worker left)", async () => {
    const gate = new ConnectionGate(2, 256, 4);
    gate.setShare({ workers: 2, rank: 1 });
    gate.identify("192.0.2.1", "mx.example");
    gate.identify("192.0.2.2", "mx.example");
    await gate.acquire("192.0.2.1");
    await gate.acquire("192.0.2.1");
    let third = false;
    const pending = gate.acquire("192.0.2.2").then((slot) => {
      third = true;
      return slot;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    gate.setShare({ workers: 1, rank: 0 });
    await pending;
    expect(gate.openToServer("192.0.2.2")).toBe(3);
  });

  it("says a worker is over its share after the share shrank, until enough connections closed", async () => {
    const gate = new ConnectionGate(2, 256, 4);
    gate.identify("192.0.2.1", "mx.example");
    gate.identify("192.0.2.2", "mx.example");
    const slots = [await gate.acquire("192.0.2.1"), await gate.acquire("192.0.2.1"), await gate.acquire("192.0.2.2")];
    expect(gate.withinShares()).toBe(true);
    gate.setShare({ workers: 2, rank: 0 });
    expect(gate.withinShares()).toBe(false);
    slots[0]!();
    expect(gate.withinShares()).toBe(true);
  });

  it("applies a budget another worker learned, split like the default one", async () => {
    const now = Date.now();
    const gate = new ConnectionGate(2, 256, 40);
    gate.setShare({ workers: 2, rank: 0 });
    gate.learn("name:mx.example", 6, now + 60_000, now);
    expect(await fill(gate, addresses)).toBe(3);
    // Only ever lowered while it holds.
    gate.learn("name:mx.example", 30, now + 60_000, now);
    expect(gate.serverLimitFor(addresses[0]!)).toBe(3);
  });

  it("hands a budget learned from a refusal to onLearned, under the key learn() takes", async () => {
    const gate = new ConnectionGate(2, 256, 40);
    gate.identify("192.0.2.1", "MX.example");
    const learned: Array<[string, number]> = [];
    gate.onLearned = (server, limit) => learned.push([server, limit]);
    const slot = await gate.acquire("192.0.2.1");
    slot.accepted();
    gate.refused("192.0.2.1");
    expect(learned).toEqual([["name:mx.example", 1]]);
    const other = new ConnectionGate(2, 256, 40);
    other.identify("192.0.2.9", "mx.example");
    other.learn(learned[0]![0], learned[0]![1], Date.now() + 60_000);
    expect(other.serverLimitFor("192.0.2.9")).toBe(1);
  });
});
