import "server-only";
import { getServerSession } from "next-auth";
import { authOptions } from "./options";
import { sessionUser } from "../users/service";
import type { Role } from "./roles";

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  via: "session" | "api-token";
  /** The UserSession row of a browser session (password changes keep this one and end the rest). */
  sessionId?: string;
  /** The API token a route request came with. */
  tokenId?: string;
}

/** The signed-in user, re-read from the database: disabled or signed-out-everywhere users get null. */
export async function getCurrentUser(): Promise<SessionUser | null> {
  const session = await getServerSession(authOptions);
  const { id, sid } = (session?.user as { id?: string; sid?: string } | undefined) ?? {};
  if (!id) return null;
  const live = await sessionUser(id);
  if (!live || live.disabledAt) return null;
  return { id: live.id, email: live.email, name: live.name, role: live.role as Role, via: "session", sessionId: sid };
}
