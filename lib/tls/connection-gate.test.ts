import { describe, expect, it } from "vitest";
import { ConnectionGate } from "./connection-gate";

describe("ConnectionGate", () => {
  it("holds a third connection to one host until one of two is released", async () => {
    const gate = new ConnectionGate(2, 10);
    const first = await gate.acquire("192.0.2.1");
    await gate.acquire("192.0.2.1");
    let third = false;
    const pending = gate.acquire("192.0.2.1").then((release) => {
      third = true;
      return release;
    });
    await Promise.resolve();
    expect(third).toBe(false);
    expect(gate.openTo("192.0.2.1")).toBe(2);
    first();
    first(); // releasing twice must not free a second slot
    await pending;
    expect(third).toBe(true);
    expect(gate.openTo("192.0.2.1")).toBe(2);
  });

  it("lets another host pass a waiter whose host is full", async () => {
    const gate = new ConnectionGate(1, 2);
    const a = await gate.acquire("a");
    const waitingA = gate.acquire("a");
    const b = await gate.acquire("b");
    expect(gate.openTotal).toBe(2);
    b();
    const c = await gate.acquire("c");
    expect(gate.openTo("c")).toBe(1);
    a();
    (await waitingA)();
    c();
    expect(gate.openTotal).toBe(0);
  });

  it("serves an endpoint already under way before endpoints that started later", async () => {
    const gate = new ConnectionGate(1, 10);
    const early = gate.ticket();
    const late = gate.ticket();
    const first = await gate.acquire("a", undefined, early);
    const order: string[] = [];
    const lateWaiting = gate.acquire("a", undefined, late).then((r) => (order.push("late"), r));
    const earlyWaiting = gate.acquire("a", undefined, early).then((r) => (order.push("early"), r));
    first();
    (await earlyWaiting)();
    (await lateWaiting)();
    expect(order).toEqual(["early", "late"]);
  });

  it("respects the global limit and gives up on abort", async () => {
    const gate = new ConnectionGate(5, 1);
    const release = await gate.acquire("a");
    const abort = new AbortController();
    const waiting = gate.acquire("b", abort.signal);
    abort.abort();
    await expect(waiting).rejects.toThrow();
    release();
    expect(gate.openTotal).toBe(0);
    (await gate.acquire("b"))();
  });
});
