import "server-only";
// The one way to write a REST route handler: the route declares its action (roles.ts) and the zod
// schemas of its path parameters, query and body; route() authorizes the request (guard.ts
// authorizeRequest: session or API token, scope, CSRF), parses every declared input, runs the
// handler, and answers every failure as problem+json (problem.ts). lib/http/openapi.ts documents
// the API from the same declarations, so what is documented is what is parsed.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { logger } from "../log";
import { authorizeRequest, isUserFacing, type RoutePrincipal } from "../auth/guard";
import type { SessionUser } from "../auth/session";
import type { Action } from "../auth/roles";
import { invalidInput, notFound, problem, PROBLEM_TYPES } from "./problem";

/** A JSON body larger than this is refused before it is parsed (100,000 host ids are ~4 MB). */
export const JSON_BODY_MAX_BYTES = 8 * 1024 * 1024;

export interface ResponseDoc {
  description: string;
  /** Default application/json. */
  contentType?: string;
}

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined> {
  action: Action;
  /** One line for the API document. */
  summary: string;
  /** Path parameters; a request whose parameters do not parse is answered 404 with `notFound`. */
  params?: P;
  notFound?: string;
  query?: Q;
  /** How the query's record is read from the URL before `query` parses it (default: the last value of each key). */
  readQuery?: (params: URLSearchParams) => unknown;
  /** A JSON body. */
  body?: B;
  /** An empty body is read as `{}`. */
  bodyOptional?: boolean;
  /**
   * A body that is not JSON (the CSV import): handed to the handler as bytes, refused above
   * `maxBytes`. `stream`: handed over unread as `bodyStream` (a Content-Length above `maxBytes` is
   * still refused here; the handler caps what actually arrives).
   */
  rawBody?: { contentType: string; maxBytes: number; tooLarge: string; stream?: boolean };
  /** Bodies this route accepts, for the API document; the OpenAPI test sends each one through the route. */
  examples?: unknown[];
  /** Success answers, for the API document. */
  responses: Record<number, ResponseDoc>;
}

export interface RouteInput<P extends Schema, Q extends Schema, B extends Schema> {
  req: Request;
  /** The caller, with the role this request acts with. */
  user: SessionUser;
  principal: RoutePrincipal;
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  /** The JSON body as sent, before `body` parsed it (PATCH merges only the fields that were sent). */
  json: unknown;
  /** The bytes of a `rawBody` route. */
  raw: Uint8Array;
  /** The body of a `rawBody: { stream: true }` route, unread (null when there is none). */
  bodyStream: ReadableStream<Uint8Array> | null;
}

type RouteContext = { params: Promise<Record<string, string | string[]>> };

export interface RouteHandler {
  (req: Request, ctx: RouteContext): Promise<Response>;
  /** Visible on the handler so the authorization test can check every route. */
  readonly action: Action;
  readonly spec: RouteSpec<Schema, Schema, Schema>;
}

const tooLargeFor = (message: string) => problem(413, message);

/**
 * The request body as bytes, refusing more than `max`. A Content-Length larger than what arrives
 * means something in front (Next's proxy buffers 10 MB) cut the body short: refused too, so a
 * truncated file is never previewed or imported as if it were whole.
 */
export async function readBody(req: Request, max: number, tooLarge: string): Promise<Uint8Array | Response> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) return tooLargeFor(tooLarge);
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return tooLargeFor(tooLarge);
    }
    chunks.push(value);
  }
  if (Number.isFinite(declared) && declared !== size) return tooLargeFor(tooLarge);
  return Buffer.concat(chunks);
}

const lastValues = (params: URLSearchParams) => Object.fromEntries(params);

function bodyProblem(detail: string): Response {
  return problem(400, detail, { type: PROBLEM_TYPES.invalidInput, title: "Invalid request body" });
}

async function readJsonBody(req: Request, optional: boolean): Promise<{ json: unknown } | Response> {
  const bytes = await readBody(req, JSON_BODY_MAX_BYTES, `The body is larger than ${JSON_BODY_MAX_BYTES / 1024 / 1024} MiB.`);
  if (bytes instanceof Response) return bytes;
  const text = Buffer.from(bytes).toString("utf8");
  if (optional && text.trim() === "") return { json: {} };
  try {
    return { json: JSON.parse(text) };
  } catch {
    return bodyProblem("The body must be JSON");
  }
}

/** How a route answers an error its handler threw (a streamed answer uses it for its last line too). */
export function errorResponse(err: unknown, action: Action): Response {
  // A message written for the user is a 400 whatever status its error carries: what the API has always answered.
  if (isUserFacing(err)) return problem(400, err.message);
  const id = randomUUID().slice(0, 8);
  logger.error({ err, action, errorId: id }, "route handler failed");
  return problem(500, `Internal error (id ${id})`, { type: PROBLEM_TYPES.internal, extensions: { errorId: id } });
}

export function route<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined>(
  spec: RouteSpec<P, Q, B>,
  handler: (input: RouteInput<P, Q, B>) => Promise<Response>,
): RouteHandler {
  const guarded = async (req: Request, ctx: RouteContext): Promise<Response> => {
    const auth = await authorizeRequest(req, spec.action);
    if (!auth.ok) return problem(auth.status, auth.detail, { type: auth.type });
    const { principal } = auth;
    try {
      let params: unknown = undefined;
      if (spec.params) {
        const parsed = spec.params.safeParse(await ctx.params);
        if (!parsed.success) return notFound(spec.notFound ?? "Not found");
        params = parsed.data;
      }
      let query: unknown = undefined;
      if (spec.query) {
        const parsed = spec.query.safeParse((spec.readQuery ?? lastValues)(new URL(req.url).searchParams));
        if (!parsed.success) return invalidInput(parsed.error, "query");
        query = parsed.data;
      }
      let json: unknown = undefined;
      let body: unknown = undefined;
      let raw: Uint8Array = new Uint8Array(0);
      let bodyStream: ReadableStream<Uint8Array> | null = null;
      if (spec.body) {
        const read = await readJsonBody(req, spec.bodyOptional ?? false);
        if (read instanceof Response) return read;
        json = read.json;
        const parsed = spec.body.safeParse(json);
        if (!parsed.success) return invalidInput(parsed.error, "body");
        body = parsed.data;
      } else if (spec.rawBody?.stream) {
        const declared = Number(req.headers.get("content-length") ?? NaN);
        if (Number.isFinite(declared) && declared > spec.rawBody.maxBytes) return tooLargeFor(spec.rawBody.tooLarge);
        bodyStream = req.body;
      } else if (spec.rawBody) {
        const bytes = await readBody(req, spec.rawBody.maxBytes, spec.rawBody.tooLarge);
        if (bytes instanceof Response) return bytes;
        raw = bytes;
      }
      return await handler({ req, user: principal.user, principal, params, query, body, json, raw, bodyStream } as RouteInput<P, Q, B>);
    } catch (err) {
      return errorResponse(err, spec.action);
    }
  };
  return Object.assign(guarded, { action: spec.action, spec: spec as RouteSpec<Schema, Schema, Schema> });
}

/** The `[id]` segment of a route: a UUID, or the route answers 404 (an id that cannot exist is a missing thing). */
export const IdParams = z.object({ id: z.uuid() });
