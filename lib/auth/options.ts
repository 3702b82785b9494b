import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { env } from "../env";
import { endSession, liveSession, SESSION_MAX_AGE_SECONDS, verifySignIn } from "../users/service";
import { clientAddressFrom } from "./client-address";
import { isHttpsUrl } from "./https";
import type { Role } from "./roles";

// Sessions are JWTs that name a UserSession row (`sid`). The jwt callback re-reads the row and
// the user on every request: an ended session (sign-out, password change or reset, forced
// sign-out), a changed User.tokenVersion or a disabled user ends the JWT's validity at once.

const SignInFields = z.object({ email: z.string().max(254), password: z.string().max(200) });

/** The caller's address (client-address.ts): the TCP peer, unless trusted proxies say otherwise. */
export function clientAddress(headers: Headers | Record<string, string | string[] | undefined> | undefined): string {
  return clientAddressFrom(headers, { trustedHops: env.TLSFLEET_TRUSTED_PROXY_HOPS, peerKey: env.TLSFLEET_PEER_KEY });
}

/** What the credentials check decided, for the route handler to turn into a status code (next-auth only answers 401). */
export const signInOutcome = new AsyncLocalStorage<{ refused?: "throttled" | "busy"; retryAfterSeconds?: number }>();

export const SIGN_IN_ERROR = { throttled: "TooManyAttempts", busy: "ServerBusy" } as const;

export const authOptions: NextAuthOptions = {
  secret: env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  // next-auth derives the same from NEXTAUTH_URL; said here so proxy.ts (getToken) and this agree.
  useSecureCookies: isHttpsUrl(env.NEXTAUTH_URL),
  pages: { signIn: "/login", error: "/login" },
  providers: [
    CredentialsProvider({
      name: "E-mail and password",
      credentials: { email: { label: "E-mail", type: "email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, req) {
        const parsed = SignInFields.safeParse(credentials);
        if (!parsed.success) return null;
        const result = await verifySignIn(parsed.data.email, parsed.data.password, clientAddress(req?.headers));
        if (!result.ok) {
          if (result.reason === "throttled" || result.reason === "busy") {
            const store = signInOutcome.getStore();
            if (store) Object.assign(store, { refused: result.reason, retryAfterSeconds: result.retryAfterSeconds });
            throw new Error(SIGN_IN_ERROR[result.reason]);
          }
          return null;
        }
        const u = result.user;
        return { id: u.id, email: u.email, name: u.name ?? u.email, role: u.role, tv: u.tokenVersion, sid: result.sessionId };
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        const u = user as unknown as { id: string; role: Role; tv: number; sid: string };
        token.uid = u.id;
        token.role = u.role;
        token.tv = u.tv;
        token.sid = u.sid;
        return token;
      }
      if (!token.uid) return token;
      // Tokens from before sessions had rows carry no sid: they end too.
      const live = typeof token.sid === "string" ? await liveSession(token.sid) : null;
      if (!live || live.user.id !== token.uid || live.user.disabledAt || live.user.tokenVersion !== token.tv) {
        return { revoked: true } as typeof token;
      }
      token.role = live.user.role;
      return token;
    },
    async session({ session, token }) {
      if (!token.uid || token.revoked) return { expires: session.expires } as typeof session;
      return {
        ...session,
        user: { id: token.uid as string, email: session.user?.email ?? "", name: session.user?.name ?? "", role: token.role as Role, sid: token.sid as string },
      };
    },
  },
  events: {
    // next-auth calls this with the decoded JWT of the cookie it is clearing.
    async signOut({ token }) {
      if (typeof token?.sid === "string") await endSession(token.sid);
    },
  },
};
