import { describe, expect, it } from "vitest";
import { z } from "zod";
import { fieldErrors, invalidInput, problem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from "./problem";

describe("problem details (RFC 9457)", () => {
  it("answers application/problem+json with type, title, status, detail and the error member scripts read", async () => {
    const res = problem(404, "No such host", { type: PROBLEM_TYPES.notFound });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(await res.json()).toEqual({ type: PROBLEM_TYPES.notFound, title: "Not Found", status: 404, detail: "No such host", error: "No such host" });
  });

  it("uses about:blank and the status's title when a problem has no type of its own", async () => {
    expect(await problem(422, "rejected", { extensions: { preview: { rows: 1 } } }).json()).toEqual({ type: "about:blank", title: "Unprocessable Content", status: 422, detail: "rejected", error: "rejected", preview: { rows: 1 } });
  });

  it("locates every invalid field by JSON pointer and by the forms' dotted name", async () => {
    const schema = z.object({ name: z.string().min(1, "Name is required"), endpoints: z.array(z.object({ "a/b~c": z.number({ message: "a number" }) })) });
    const parsed = schema.safeParse({ name: "", endpoints: [{ "a/b~c": "x" }] });
    expect(parsed.success).toBe(false);
    const body = await invalidInput(parsed.error!, "body").json();
    expect(body).toMatchObject({ type: PROBLEM_TYPES.invalidInput, title: "Invalid request body", status: 400, detail: "Name is required", error: "Name is required" });
    expect(body.errors).toEqual([
      { pointer: "#/name", detail: "Name is required" },
      { pointer: "#/endpoints/0/a~1b~0c", detail: "a number" },
    ]);
    expect(body.fieldErrors).toEqual({ name: ["Name is required"], "endpoints.0.a/b~c": ["a number"] });
  });

  it("files an issue about the input as a whole under _", () => {
    const parsed = z.object({ a: z.string() }).refine(() => false, { message: "choose one" }).safeParse({ a: "x" });
    expect(fieldErrors(parsed.error!)).toEqual({ _: ["choose one"] });
  });
});
