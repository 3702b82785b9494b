import { describe, expect, it } from "vitest";
import { presenceView } from "./worker-share";

const row = (workerId: string, sees: string[], fitsShare = true) => ({ workerId, sees, fitsShare });

describe("presenceView", () => {
  it("ranks the live workers in one order every worker agrees on", () => {
    const live = [row("w-b", ["w-a", "w-b"]), row("w-a", ["w-a", "w-b"])];
    expect(presenceView(live, "w-a").share).toEqual({ workers: 2, rank: 0 });
    expect(presenceView(live, "w-b").share).toEqual({ workers: 2, rank: 1 });
  });

  it("counts a worker whose own row is not written yet (its first beat)", () => {
    expect(presenceView([row("w-a", ["w-a"])], "w-b")).toEqual({ workers: ["w-a", "w-b"], share: { workers: 2, rank: 1 }, othersMadeRoom: false });
  });

  it("lets a lone worker use its share at once", () => {
    expect(presenceView([], "w-a").othersMadeRoom).toBe(true);
    expect(presenceView([row("w-a", ["w-a"])], "w-a").othersMadeRoom).toBe(true);
  });

  it("makes a new worker wait until every other worker has seen it", () => {
    const live = [row("w-a", ["w-a", "w-c"]), row("w-b", ["w-a", "w-b"]), row("w-c", [])];
    expect(presenceView(live, "w-c").othersMadeRoom).toBe(false);
    live[1] = row("w-b", ["w-a", "w-b", "w-c"]);
    expect(presenceView(live, "w-c").othersMadeRoom).toBe(true);
  });

  it("makes a new worker wait while another still has more connections open than its smaller share", () => {
    const live = [row("w-a", ["w-a", "w-b"], false), row("w-b", [])];
    expect(presenceView(live, "w-b").othersMadeRoom).toBe(false);
  });
});
