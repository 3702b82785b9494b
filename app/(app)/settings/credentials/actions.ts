"use server";
import { authorizedAction } from "@/lib/auth/guard";
import { CredentialScopeInput, setCredentialScope } from "@/lib/credentials/scope";
import { CredentialIdInput, CredentialInput, CredentialReplaceInput, createCredential, deleteCredential, replaceCredentialSecret } from "@/lib/credentials/service";

const revalidate = ["/settings/credentials"];

export const createCredentialAction = authorizedAction("credentials.manage", CredentialInput, (input, user) => createCredential(user, input).then(() => undefined), { revalidate, success: "Credential saved (encrypted)" });

export const replaceCredentialSecretAction = authorizedAction("credentials.manage", CredentialReplaceInput, (input, user) => replaceCredentialSecret(user, input), { revalidate, success: "Secret replaced" });

export const deleteCredentialAction = authorizedAction("credentials.manage", CredentialIdInput, (input, user) => deleteCredential(user, input), { revalidate, success: "Credential deleted" });

export const setCredentialScopeAction = authorizedAction("credentials.manage", CredentialScopeInput, (input, user) => setCredentialScope(user, input), { revalidate, success: "Scope saved" });
