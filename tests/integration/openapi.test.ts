// /api/v1/openapi.json against the routes it documents: every route file under app/api/v1 is in it
// with exactly its methods, it is a valid OpenAPI 3.1 document, and every documented example body
// validates against the documented schema and is accepted by the route's own parsing (sent through
// the real handler with a real token; a fresh database, so the bodies change nothing shared).
import { readdirSync } from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { newApiToken } from "@/lib/auth/api-tokens";
import { scanDatabase } from "./scan-support";

scanDatabase("openapi");

const ROOT = path.resolve(import.meta.dirname, "../..");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const SAMPLE_ID = "00000000-0000-4000-8000-000000000000";

const routeFiles = (readdirSync(path.join(ROOT, "app/api/v1"), { recursive: true }) as string[]).filter((f) => path.basename(f) === "route.ts").sort();

interface Operation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: object; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, unknown>;
  security?: unknown;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme?: string }> } };

let doc: Doc;
let token = "";

beforeAll(async () => {
  const u = await prisma.user.create({ data: { email: "openapi-admin@example.test", role: "admin", passwordHash: "x" } });
  const t = newApiToken();
  await prisma.apiToken.create({ data: { name: "openapi test", tokenHash: t.tokenHash, prefix: t.prefix, scopes: ["admin"], ownerId: u.id } });
  token = t.token;
  const { GET } = await import("@/app/api/v1/openapi.json/route");
  const res = await GET(new Request("http://localhost/api/v1/openapi.json", { headers: { authorization: `Bearer ${token}` } }), { params: Promise.resolve({}) });
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
});

const openApiPath = (file: string) => "/api/v1/" + path.dirname(file).replace(/\[([^\]]+)\]/g, "{$1}");

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("names the bearer token and the session as its security schemes, and problem+json for errors", () => {
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.session).toMatchObject({ type: "apiKey" });
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(item)) {
        expect(op.responses["401"], `${m} ${p}`).toEqual({ $ref: "#/components/responses/Problem401" });
        expect(op.responses["403"], `${m} ${p}`).toEqual({ $ref: "#/components/responses/Problem403" });
      }
    }
  });

  it("has every route file under app/api/v1 with exactly its methods", async () => {
    expect(routeFiles.length).toBeGreaterThan(15);
    const documented = new Set(Object.keys(doc.paths));
    for (const file of routeFiles) {
      const mod = await import(path.join(ROOT, "app/api/v1", file));
      const methods = METHODS.filter((m) => typeof mod[m] === "function").map((m) => m.toLowerCase());
      const p = openApiPath(file);
      expect(documented.has(p), `${file} is not in the document (add it to app/api/v1/openapi.json/route.ts)`).toBe(true);
      expect(Object.keys(doc.paths[p]!).sort(), p).toEqual(methods.sort());
      documented.delete(p);
      for (const name of p.match(/\{[^}]+\}/g) ?? []) {
        for (const m of methods) expect(doc.paths[p]![m]!.parameters?.some((x) => x.in === "path" && `{${x.name}}` === name), `${m} ${p} documents ${name}`).toBe(true);
      }
    }
    expect([...documented], "documented paths with no route file").toEqual([]);
  });

  it("documents bodies the routes accept: every example validates against its schema and passes the route's parsing", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    let checked = 0;
    for (const file of routeFiles) {
      const p = openApiPath(file);
      const mod = await import(path.join(ROOT, "app/api/v1", file));
      for (const [method, op] of Object.entries(doc.paths[p]!)) {
        const json = op.requestBody?.content["application/json"];
        if (!json) continue;
        const examples = Object.values(json.examples ?? {}).map((e) => e.value);
        expect(examples.length, `${method} ${p} has no example body`).toBeGreaterThan(0);
        const validate = ajv.compile(json.schema);
        for (const body of examples) {
          expect(validate(body), `${method} ${p} example ${JSON.stringify(body)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          const url = `http://localhost${p.replace(/\{[^}]+\}/g, SAMPLE_ID)}`;
          const req = new Request(url, { method: method.toUpperCase(), headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
          const params = Object.fromEntries((p.match(/\{([^}]+)\}/g) ?? []).map((n) => [n.slice(1, -1), SAMPLE_ID]));
          const res = await mod[method.toUpperCase()](req, { params: Promise.resolve(params) });
          const answer = res.headers.get("content-type") === "application/problem+json" ? await res.json() : null;
          // Refusals by the domain (no such host, nothing to scan) are fine; the schema must not refuse it.
          expect(answer?.type, `${method} ${p} refused its own example ${JSON.stringify(body)}: ${JSON.stringify(answer)}`).not.toBe("urn:tlsfleet:problem:invalid-input");
          expect(res.status, `${method} ${p}`).toBeLessThan(500);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it("documents what the routes refuse: a body the route calls invalid fails the documented schema too", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const cases: Array<[string, string, unknown]> = [
      ["/api/v1/hosts", "post", { name: "no spaces allowed", address: "192.0.2.70" }],
      ["/api/v1/jobs", "post", { hostIds: [] }],
      ["/api/v1/rollouts/{id}/approve", "post", { planHash: "abc" }],
      ["/api/v1/rollouts/{id}/rollback", "post", { hostIds: ["not-a-uuid"] }],
    ];
    for (const [p, method, body] of cases) {
      const validate = ajv.compile(doc.paths[p]![method]!.requestBody!.content["application/json"]!.schema);
      expect(validate(body), `${method} ${p} ${JSON.stringify(body)}`).toBe(false);
    }
  });
});
