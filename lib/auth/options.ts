import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { env } from "../env";
import { sessionUser, verifySignIn } from "../users/service";
import type { Role } from "./roles";

// Sessions are JWTs (no session table); revocation works through User.tokenVersion, which the
// jwt callback compares on every read.
const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

const SignInFields = z.object({ email: z.string().max(254), password: z.string().max(200) });

/** The caller's address. Next appends the socket address as the last X-Forwarded-For entry, so
 * the last entry is the one a client cannot forge. */
export function clientAddress(headers: Headers | Record<string, string | string[] | undefined> | undefined): string {
  let xff: string | null | undefined;
  if (headers instanceof Headers) xff = headers.get("x-forwarded-for");
  else if (headers) {
    const raw = headers["x-forwarded-for"];
    xff = Array.isArray(raw) ? raw.join(",") : raw;
  }
  const parts = (xff ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return parts[parts.length - 1] ?? "unknown";
}

export const authOptions: NextAuthOptions = {
  secret: env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
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
          if (result.reason === "throttled") throw new Error("TooManyAttempts");
          return null;
        }
        const u = result.user;
        return { id: u.id, email: u.email, name: u.name ?? u.email, role: u.role, tv: u.tokenVersion };
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user) {
        const u = user as unknown as { id: string; role: Role; tv: number };
        token.uid = u.id;
        token.role = u.role;
        token.tv = u.tv;
        return token;
      }
      if (!token.uid) return token;
      const live = await sessionUser(token.uid as string);
      if (!live || live.disabledAt || live.tokenVersion !== token.tv) {
        return { revoked: true } as typeof token;
      }
      token.role = live.role;
      return token;
    },
    async session({ session, token }) {
      if (!token.uid || token.revoked) return { expires: session.expires } as typeof session;
      return {
        ...session,
        user: { id: token.uid as string, email: session.user?.email ?? "", name: session.user?.name ?? "", role: token.role as Role },
      };
    },
  },
};
