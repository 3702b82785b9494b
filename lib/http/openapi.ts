// The OpenAPI 3.1 document of /api/v1, generated from the route declarations (route.ts RouteSpec):
// the zod schemas a route parses are the schemas it documents (z.toJSONSchema, input side), so
// the document cannot drift from what the routes accept. docs/api.md says what it covers.
import { z } from "zod";
import { ACTIONS, SCOPE_ROLE, TOKEN_SCOPES } from "../auth/roles";
import { PROBLEM_CONTENT_TYPE } from "./problem";
import type { RouteHandler } from "./route";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** One route file: its URL path as Next names it ("/api/v1/jobs/[id]/events") and its exported handlers. */
export interface RouteModule {
  path: string;
  handlers: Partial<Record<(typeof HTTP_METHODS)[number], RouteHandler>>;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): JsonSchema {
  // OpenAPI 3.1's default dialect is JSON Schema 2020-12; "input" documents what a client sends
  // (before defaults and transforms). Preprocessed fields (e.g. "25/smtp;587" or a list) are
  // documented by the type they parse into.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
    // A preprocessed field may accept more spellings than the type it parses into; its `accepts`
    // metadata (a JSON schema) says which, and replaces the generated schema.
    override: ({ zodSchema, jsonSchema: generated }) => {
      const accepts = (z.globalRegistry.get(zodSchema) as { accepts?: JsonSchema } | undefined)?.accepts;
      if (!accepts) return;
      for (const key of Object.keys(generated)) delete (generated as JsonSchema)[key];
      Object.assign(generated, accepts);
    },
  }) as JsonSchema;
  return rest;
}

const PROBLEM_SCHEMA: JsonSchema = {
  type: "object",
  description: "RFC 9457 problem details. `error` repeats `detail`; `fieldErrors` locates invalid input by dotted field name, `errors` by JSON pointer.",
  required: ["type", "title", "status", "detail", "error"],
  properties: {
    type: { type: "string", description: "A URI naming the problem type (docs/api.md), or about:blank" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string", description: "Written for the user" },
    error: { type: "string" },
    errors: { type: "array", items: { type: "object", required: ["pointer", "detail"], properties: { pointer: { type: "string" }, detail: { type: "string" } } } },
    fieldErrors: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
  },
};

const ERRORS: Record<string, string> = {
  "400": "Invalid input (type urn:tlsfleet:problem:invalid-input) or a refusal written for the user",
  "401": "No session and no valid API token",
  "403": "The role or the token's scope does not allow this, or a cross-origin request with a session cookie",
  "404": "No such thing",
  "413": "The body is too large",
  "422": "The import was rejected; `preview` says why",
  "429": "Too many event streams open for this user",
  "500": "Internal error; `errorId` names it in the server log",
};

const problemRef = (status: string) => ({ $ref: `#/components/responses/Problem${status}` });

function scopeFor(action: keyof typeof ACTIONS): string {
  return TOKEN_SCOPES.find((s) => SCOPE_ROLE[s] === ACTIONS[action])!;
}

function queryParameters(schema: z.ZodType): unknown[] {
  const doc = jsonSchema(schema);
  const properties = (doc.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((doc.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema: s,
    // Lists are written comma separated (?status=noncompliant,unreachable).
    ...(s.type === "array" ? { style: "form", explode: false } : {}),
  }));
}

function pathParameters(schema: z.ZodType): unknown[] {
  const properties = (jsonSchema(schema).properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).map(([name, s]) => ({ name, in: "path", required: true, schema: s }));
}

export function openApiPath(nextPath: string): string {
  return nextPath.replace(/\[([^\]]+)\]/g, "{$1}");
}

export function buildOpenApiDocument(modules: RouteModule[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const mod of [...modules].sort((a, b) => a.path.localeCompare(b.path))) {
    const item: Record<string, unknown> = {};
    for (const method of HTTP_METHODS) {
      const handler = mod.handlers[method];
      if (!handler) continue;
      const spec = handler.spec;
      const parameters = [...(spec.params ? pathParameters(spec.params) : []), ...(spec.query ? queryParameters(spec.query) : [])];
      const responses: Record<string, unknown> = {};
      for (const [status, r] of Object.entries(spec.responses)) {
        responses[status] = status === "204" ? { description: r.description } : { description: r.description, content: { [r.contentType ?? "application/json"]: {} } };
      }
      const errors = ["400", "401", "403"];
      if (spec.params) errors.push("404");
      if (spec.body || spec.rawBody) errors.push("413");
      if (spec.rawBody) errors.push("422");
      if (Object.values(spec.responses).some((r) => r.contentType === "text/event-stream")) errors.push("429");
      errors.push("500");
      for (const status of errors) responses[status] = problemRef(status);

      let requestBody: unknown = undefined;
      if (spec.body) {
        const examples = Object.fromEntries((spec.examples ?? []).map((value, i) => [`example${i + 1}`, { value }]));
        requestBody = { required: !spec.bodyOptional, content: { "application/json": { schema: jsonSchema(spec.body), ...(spec.examples?.length ? { examples } : {}) } } };
      } else if (spec.rawBody) {
        requestBody = { required: true, content: { [spec.rawBody.contentType]: { schema: { type: "string" } } } };
      }
      const role = ACTIONS[spec.action];
      item[method.toLowerCase()] = {
        operationId: `${method.toLowerCase()}${openApiPath(mod.path).replace(/^\/api\/v1/, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
        summary: spec.summary,
        description: `Needs the ${role} role (API token scope ${scopeFor(spec.action)} or higher). Action: ${spec.action}.`,
        "x-tlsfleet-action": spec.action,
        ...(parameters.length ? { parameters } : {}),
        ...(requestBody ? { requestBody } : {}),
        responses,
      };
    }
    paths[openApiPath(mod.path)] = item;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "tlsfleet API",
      version: "1",
      description: "Every error is application/problem+json (RFC 9457). Authenticate with an API token (Settings > API tokens) as a bearer token, or with the browser session. See docs/api.md.",
    },
    servers: [{ url: "/" }],
    security: [{ apiToken: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: "http", scheme: "bearer", description: "An API token (tfl_...) from Settings > API tokens; it acts with its scope (read, operate, admin), never more than its owner's role." },
        session: { type: "apiKey", in: "cookie", name: "next-auth.session-token", description: "The browser session (the __Secure- prefixed name over HTTPS). Mutations must be same-origin." },
      },
      schemas: { Problem: PROBLEM_SCHEMA },
      responses: Object.fromEntries(Object.entries(ERRORS).map(([status, description]) => [`Problem${status}`, { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } } }])),
    },
  };
}
