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

  it("counts every address of one server against its budget once a greeting named it", async () => {
    const gate = new ConnectionGate(2, 64, 3);
    gate.identify("198.18.0.16", "mx.lab");
    gate.identify("198.18.0.17", "MX.lab");
    const held = [await gate.acquire("198.18.0.16"), await gate.acquire("198.18.0.16"), await gate.acquire("198.18.0.17")];
    expect(gate.openToServer("198.18.0.17")).toBe(3);
    let fourth = false;
    const pending = gate.acquire("198.18.0.17").then((r) => ((fourth = true), r));
    // An address of another server is not held up.
    (await gate.acquire("198.18.0.99"))();
    await Promise.resolve();
    expect(fourth).toBe(false);
    held[0]!();
    (await pending)();
    expect(fourth).toBe(true);
    for (const release of held) release();
    expect(gate.openToServer("198.18.0.16")).toBe(0);
  });

  it("moves connections already open to the server an address turns out to be", async () => {
    const gate = new ConnectionGate(2, 64, 8);
    gate.identify("198.18.0.16", "mx.lab");
    const a = await gate.acquire("198.18.0.16");
    const b = await gate.acquire("198.18.0.17");
    expect(gate.openToServer("198.18.0.16")).toBe(1);
    gate.identify("198.18.0.17", "mx.lab");
    expect(gate.openToServer("198.18.0.16")).toBe(2);
    b();
    a();
    expect(gate.openToServer("198.18.0.16")).toBe(0);
    expect(gate.openTotal).toBe(0);
  });

  it("learns a server's budget from a refusal: the sessions it had accepted from us, for a while", async () => {
    const gate = new ConnectionGate(2, 64, 16, 60_000);
    gate.identify("198.18.0.16", "mx.lab");
    gate.identify("198.18.0.17", "mx.lab");
    const first = await gate.acquire("198.18.0.16");
    const second = await gate.acquire("198.18.0.17");
    const third = await gate.acquire("198.18.0.17");
    first.accepted();
    second.accepted();
    // The third was greeted "421 too many connections": two sessions were what it allowed.
    gate.refused("198.18.0.17", 1_000);
    expect(gate.serverLimitFor("198.18.0.16", 1_001)).toBe(2);
    // A later refusal with fewer accepted lowers it; one with more never raises it.
    third();
    second();
    gate.refused("198.18.0.16", 2_000);
    expect(gate.serverLimitFor("198.18.0.16", 2_001)).toBe(1);
    first();
    expect(gate.serverLimitFor("198.18.0.16", 62_001)).toBe(16);
  });

  it("slows every address of a server that asked to try again later", () => {
    const gate = new ConnectionGate(2, 64, 16);
    gate.identify("198.18.0.16", "mx.lab");
    gate.identify("198.18.0.17", "mx.lab");
    gate.slowDown("198.18.0.16", 1_000, 5_000);
    expect(gate.serverLimitFor("198.18.0.17", 5_500)).toBe(1);
    expect(gate.limitFor("198.18.0.17", 5_500)).toBe(1);
    expect(gate.limitFor("198.18.0.18", 5_500)).toBe(2);
    expect(gate.serverLimitFor("198.18.0.17", 6_001)).toBe(16);
  });
});

