import NextAuth from "next-auth";
import { NextResponse } from "next/server";
import { authOptions, signInOutcome } from "@/lib/auth/options";

const handler = NextAuth(authOptions);

type Ctx = { params: Promise<{ nextauth: string[] }> };

const REFUSED = {
  throttled: { status: 429, error: "Too many failed sign-ins; try again later" },
  busy: { status: 503, error: "The server is busy with other sign-ins; try again in a few seconds" },
} as const;

// next-auth answers every refused sign-in with 401; a throttled one becomes 429 and one refused
// because too many password checks are running becomes 503, both with Retry-After. The body
// (next-auth's `{ url }` with ?error=...) stays, so next-auth/react's signIn() still reads it.
async function post(req: Request, ctx: Ctx) {
  const outcome: { refused?: "throttled" | "busy"; retryAfterSeconds?: number } = {};
  const res = await signInOutcome.run(outcome, () => handler(req, ctx));
  if (!outcome.refused) return res;
  const body = (await res.json().catch(() => ({}))) as { url?: string };
  const refused = REFUSED[outcome.refused];
  const out = NextResponse.json({ ...body, error: refused.error }, { status: refused.status, headers: { "Retry-After": String(outcome.retryAfterSeconds ?? 5) } });
  for (const cookie of res.headers.getSetCookie()) out.headers.append("set-cookie", cookie);
  return out;
}

export { handler as GET, post as POST };
