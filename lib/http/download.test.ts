import { describe, expect, it } from "vitest";
import { CSV, downloadResponse } from "./download";

describe("downloadResponse", () => {
  it("answers an attachment that no cache keeps and no browser sniffs as another type", async () => {
    const res = downloadResponse("name,address\n", { contentType: CSV, fileName: "tlsfleet-hosts-template.csv" });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toEqual({
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": 'attachment; filename="tlsfleet-hosts-template.csv"',
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    expect(await res.text()).toBe("name,address\n");
  });
});
