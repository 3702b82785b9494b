import NextAuth from "next-auth";
import { NextResponse } from "next/server";
import { authOptions, clientAddress } from "@/lib/auth/options";
import { signInThrottle } from "@/lib/users/service";

const handler = NextAuth(authOptions);

type Ctx = { params: Promise<{ nextauth: string[] }> };

// Throttled sign-ins get a real 429 before next-auth runs (next-auth itself can only answer 401).
async function post(req: Request, ctx: Ctx) {
  const { nextauth } = await ctx.params;
  if (nextauth.join("/") === "callback/credentials") {
    const form = await req.clone().formData().catch(() => null);
    const email = String(form?.get("email") ?? "").trim().toLowerCase();
    const throttle = await signInThrottle(email, clientAddress(req.headers));
    if (throttle.locked) {
      const url = new URL("/login?error=TooManyAttempts", req.url).toString();
      return NextResponse.json({ url, error: "Too many failed sign-ins; try again later" }, { status: 429, headers: { "Retry-After": String(throttle.retryAfterSeconds) } });
    }
  }
  return handler(req, ctx);
}

export { handler as GET, post as POST };
