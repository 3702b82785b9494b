// Coarse gate in front of every route: no session cookie, no page (redirect to sign-in) and no
// API (401). The fine-grained role checks happen on the server in lib/auth/guard.ts; this only
// keeps signed-out requests away from everything but sign-in and health.
// It also sets the per-response security headers: a nonce-based CSP (lib/auth/https.ts says why
// it looks as it does) and, when the public URL is https, HSTS. Static headers are in next.config.ts.
import { NextResponse, type NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { env } from "@/lib/env";
import { contentSecurityPolicy, HSTS_VALUE, isHttpsUrl } from "@/lib/auth/https";

const PUBLIC_PREFIXES = ["/login", "/api/auth/", "/api/health", "/_next/", "/favicon", "/forbidden"];

export async function proxy(req: NextRequest) {
  const { pathname } = req.nextUrl;
  const https = isHttpsUrl(env.NEXTAUTH_URL);
  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const csp = contentSecurityPolicy(nonce, { dev: env.NODE_ENV === "development" });
  const headers = new Headers(req.headers);
  headers.set("x-pathname", pathname);
  // Next takes the nonce for its own scripts from the request's CSP header.
  headers.set("x-nonce", nonce);
  headers.set("content-security-policy", csp);
  const secured = (res: NextResponse) => {
    res.headers.set("Content-Security-Policy", csp);
    if (https) res.headers.set("Strict-Transport-Security", HSTS_VALUE);
    return res;
  };
  const next = () => secured(NextResponse.next({ request: { headers } }));

  if (PUBLIC_PREFIXES.some((p) => pathname === p || pathname.startsWith(p))) return next();
  const isApi = pathname.startsWith("/api/");
  // API tokens are verified by the route handler itself (they need the database).
  if (isApi && req.headers.get("authorization")?.toLowerCase().startsWith("bearer ")) return next();
  // The cookie's signature only: whether its session is still live is checked on the server
  // (lib/auth/options.ts jwt callback) by every page, action and route.
  const token = await getToken({ req, secret: env.NEXTAUTH_SECRET, secureCookie: https });
  if (!token?.uid || token.revoked) {
    if (isApi) return secured(NextResponse.json({ error: "Sign in or send an API token" }, { status: 401 }));
    const login = new URL("/login", req.url);
    return secured(NextResponse.redirect(login));
  }
  return next();
}

// Not the CSV import: Next reads the whole body of every request this proxy sees into memory
// before the route gets it (and cuts it at proxyClientMaxBodySize, 10 MB by default), while the
// import streams files of up to 200 MiB (issue 12). Its route authorizes every request itself
// (lib/http/route.ts: session or API token, role, CSRF), as every route does behind this gate.
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico|api/v1/hosts/import).*)"] };
