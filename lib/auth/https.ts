// Running behind TLS (docs/security.md "Sign-in and sessions"): which cookies, which headers, and
// when `tlsfleet start` must warn that passwords would cross the network in clear. Pure, so the
// proxy, next-auth's options and the CLI share one answer and tests can table it.
import { isIP } from "node:net";

/** The public URL (NEXTAUTH_URL) is https: cookies get `Secure` and the `__Secure-` prefix, and HSTS is sent. */
export function isHttpsUrl(url: string | undefined): boolean {
  return Boolean(url && /^https:\/\//i.test(url.trim()));
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return h === "::1";
}

/**
 * A warning for the start-up log when people would type passwords over plain HTTP somewhere other
 * than this machine: the public URL is http and either names a non-loopback host or the server
 * listens beyond loopback (the default, every interface). Null when there is nothing to warn about.
 */
export function plainHttpWarning(publicUrl: string, listenHosts: string[]): string | null {
  if (isHttpsUrl(publicUrl)) return null;
  let urlHost = "";
  try {
    urlHost = new URL(publicUrl).hostname;
  } catch {
    return null;
  }
  const exposed = listenHosts.length === 0 ? ["every interface"] : listenHosts.filter((h) => !isLoopback(h));
  if (isLoopback(urlHost) && exposed.length === 0) return null;
  const where = isLoopback(urlHost) ? `the web server listens on ${exposed.join(", ")}` : `the public URL ${publicUrl} is not this machine`;
  return (
    `WARNING: sign-in is plain HTTP and ${where}: passwords and session cookies would cross the network unencrypted. ` +
    `Serve tlsfleet behind an HTTPS reverse proxy (NEXTAUTH_URL=https://..., TLSFLEET_TRUSTED_PROXY_HOPS=1), ` +
    `or keep it on this machine (LISTEN_HOST=127.0.0.1,::1).`
  );
}

// Sent only over https (RFC 6797 8.1: browsers ignore it on http anyway). One year, as the
// HSTS preload list asks; no includeSubDomains, since tlsfleet cannot know its neighbours.
export const HSTS_VALUE = "max-age=31536000";

/**
 * The Content-Security-Policy for one response. Scripts run only with this response's nonce:
 * Next reads the nonce from the request's CSP header (set in proxy.ts) and puts it on its own
 * bootstrap and chunk scripts, and 'strict-dynamic' lets those load the rest. Styles keep
 * 'unsafe-inline': React and Next write inline style attributes, which nonces cannot cover, and
 * inline styles cannot run code. Development needs 'unsafe-eval' for Next's hot reload.
 */
export function contentSecurityPolicy(nonce: string, opts: { dev: boolean }): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}
