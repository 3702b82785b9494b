import { describe, expect, it } from "vitest";
import { describeWindow, MaintenanceWindow, windowState, zonedTime } from "./window";

const utc = (s: string) => new Date(`${s}Z`);
// 2026-12-07 is a Monday.
const monNight = MaintenanceWindow.parse({ days: [1], start: "22:00", durationMinutes: 180, timeZone: "UTC" });

describe("windowState", () => {
  it.each([
    ["2026-12-07T21:59:00", { open: false, opensAt: utc("2026-12-07T22:00:00") }],
    ["2026-12-07T22:00:00", { open: true, closesAt: utc("2026-12-08T01:00:00") }],
    // Opened on Monday, still open after midnight.
    ["2026-12-08T00:30:00", { open: true, closesAt: utc("2026-12-08T01:00:00") }],
    ["2026-12-08T01:00:00", { open: false, opensAt: utc("2026-12-14T22:00:00") }],
    ["2026-12-09T12:00:00", { open: false, opensAt: utc("2026-12-14T22:00:00") }],
  ])("Mon 22:00 for 3 h UTC at %s", (at, want) => {
    expect(windowState(monNight, utc(at))).toEqual(want);
  });

  it("keeps local wall-clock time across daylight saving (Europe/Warsaw)", () => {
    const w = MaintenanceWindow.parse({ days: [0, 1, 2, 3, 4, 5, 6], start: "22:00", durationMinutes: 60, timeZone: "Europe/Warsaw" });
    expect(windowState(w, utc("2026-12-07T12:00:00"))).toEqual({ open: false, opensAt: utc("2026-12-07T21:00:00") });
    expect(windowState(w, utc("2026-07-07T12:00:00"))).toEqual({ open: false, opensAt: utc("2026-07-07T20:00:00") });
    expect(windowState(w, utc("2026-07-07T20:30:00"))).toEqual({ open: true, closesAt: utc("2026-07-07T21:00:00") });
  });

  it("moves a start inside the spring-forward gap forward by the gap, and takes the later of a doubled autumn time", () => {
    // Europe/Warsaw: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
    expect(zonedTime("Europe/Warsaw", 2026, 3, 29, 2, 30)).toEqual(utc("2026-03-29T01:30:00"));
    expect(zonedTime("Europe/Warsaw", 2026, 10, 25, 2, 30)).toEqual(utc("2026-10-25T01:30:00"));
    expect(zonedTime("America/New_York", 2026, 12, 7, 22, 0)).toEqual(utc("2026-12-08T03:00:00"));
  });
});

describe("MaintenanceWindow", () => {
  it("refuses what cannot be a window, with the operator's words", () => {
    const bad = (v: unknown) => MaintenanceWindow.safeParse(v).error?.issues.map((i) => i.message);
    expect(bad({ days: [], start: "22:00", durationMinutes: 60 })).toEqual(["Choose at least one day for the maintenance window"]);
    expect(bad({ days: [1], start: "24:00", durationMinutes: 60 })).toEqual(["The window's start is a time like 22:00"]);
    expect(bad({ days: [1], start: "22:00", durationMinutes: 5 })).toEqual(["A maintenance window lasts at least 15 minutes"]);
    expect(bad({ days: [1], start: "22:00", durationMinutes: 60, timeZone: "Mars/Olympus" })).toEqual(["Not a time zone this server knows (use an IANA name such as Europe/Warsaw or UTC)"]);
  });

  it("describes itself", () => {
    expect(describeWindow(monNight)).toBe("Mon 22:00 for 3 h (UTC)");
    expect(describeWindow(MaintenanceWindow.parse({ days: [4, 2, 2], start: "01:30", durationMinutes: 45, timeZone: "Europe/Warsaw" }))).toBe("Tue, Thu 01:30 for 45 min (Europe/Warsaw)");
  });
});
