// Error answers of the REST API as RFC 9457 problem details (application/problem+json).
// Every answer also carries `error` (the same text as `detail`) and, for invalid input,
// `fieldErrors`: the members the API answered with before problem+json, kept as extension
// members so scripts written against them keep working. docs/api.md lists the problem types.
import type { z } from "zod";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Problem types (RFC 9457 "type"); anything without its own type is "about:blank" + the status title. */
export const PROBLEM_TYPES = {
  invalidInput: "urn:tlsfleet:problem:invalid-input",
  unauthenticated: "urn:tlsfleet:problem:unauthenticated",
  forbidden: "urn:tlsfleet:problem:forbidden",
  crossOrigin: "urn:tlsfleet:problem:cross-origin",
  notFound: "urn:tlsfleet:problem:not-found",
  tooManyStreams: "urn:tlsfleet:problem:too-many-streams",
  internal: "urn:tlsfleet:problem:internal",
} as const;

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The same text as `detail` (the API's error member before problem+json). */
  error: string;
  /** RFC 9457 section 3 example shape: one entry per invalid field, located by JSON pointer. */
  errors?: Array<{ pointer: string; detail: string }>;
  fieldErrors?: Record<string, string[]>;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  type?: string;
  title?: string;
  headers?: Record<string, string>;
  /** Extension members (RFC 9457 section 3.2), e.g. the import's `preview`. */
  extensions?: Record<string, unknown>;
}

export function problemBody(status: number, detail: string, opts: ProblemOptions = {}): ProblemBody {
  return {
    ...opts.extensions,
    type: opts.type ?? "about:blank",
    title: opts.title ?? TITLES[status] ?? "Error",
    status,
    detail,
    error: detail,
  };
}

export function problem(status: number, detail: string, opts: ProblemOptions = {}): Response {
  return new Response(JSON.stringify(problemBody(status, detail, opts)), {
    status,
    headers: { ...opts.headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

export const notFound = (detail: string) => problem(404, detail, { type: PROBLEM_TYPES.notFound });

/** Every problem located by field ("endpoints.0.port"; "_" for the input as a whole), as forms show them. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const issue of error.issues) (byField[issue.path.join(".") || "_"] ??= []).push(issue.message);
  return byField;
}

function jsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return "#" + path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** 400 invalid-input problem: `where` says which part of the request ("body", "query"). */
export function invalidInput(error: z.ZodError, where: "body" | "query" | "params" = "body"): Response {
  return problem(400, error.issues[0]?.message ?? "Invalid input", {
    type: PROBLEM_TYPES.invalidInput,
    title: `Invalid request ${where}`,
    extensions: {
      errors: error.issues.map((i) => ({ pointer: jsonPointer(i.path), detail: i.message })),
      fieldErrors: fieldErrors(error),
    },
  });
}
