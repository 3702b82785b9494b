"use server";
import { authorizedAction } from "@/lib/auth/guard";
import { ApiTokenIdInput, mintApiToken, MintApiTokenInput, revokeApiToken } from "@/lib/auth/api-tokens";

const revalidate = ["/settings/api-tokens"];

// The token is in this answer only: it is never stored or shown again.
export const mintApiTokenAction = authorizedAction("tokens.own", MintApiTokenInput, (input, user) => mintApiToken(user, input), { revalidate, success: "Token created" });

export const revokeApiTokenAction = authorizedAction("tokens.own", ApiTokenIdInput, (input, user) => revokeApiToken(user, input), { revalidate, success: "Token revoked" });
