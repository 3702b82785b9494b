// Coarse gate in front of every route: no session cookie, no page (redirect to sign-in) and no
// API (401). The fine-grained role checks happen on the server in lib/auth/guard.ts; this only
// keeps signed-out requests away from everything but sign-in and health.
import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { env } from "@/lib/env";

const PUBLIC_PREFIXES = ["/login", "/api/auth/", "/api/health", "/_next/", "/favicon", "/forbidden"];

export async function proxy(req: NextRequest) {
  const { pathname } = req.nextUrl;
  const headers = new Headers(req.headers);
  headers.set("x-pathname", pathname);
  if (PUBLIC_PREFIXES.some((p) => pathname === p || pathname.startsWith(p))) {
    return NextResponse.next({ request: { headers } });
  }
  const isApi = pathname.startsWith("/api/");
  // API tokens are verified by the route handler itself (they need the database).
  if (isApi && req.headers.get("authorization")?.toLowerCase().startsWith("bearer ")) return NextResponse.next({ request: { headers } });
  const token = await getToken({ req, secret: env.NEXTAUTH_SECRET });
  if (!token?.uid || token.revoked) {
    if (isApi) return NextResponse.json({ error: "Sign in or send an API token" }, { status: 401 });
    const login = new URL("/login", req.url);
    return NextResponse.redirect(login);
  }
  return NextResponse.next({ request: { headers } });
}

export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };
