"use server";
import { headers } from "next/headers";
import { authorizedAction } from "@/lib/auth/guard";
import { clientAddress } from "@/lib/auth/options";
import { ChangeOwnPasswordInput, changeOwnPassword } from "@/lib/users/service";

export const changeOwnPasswordAction = authorizedAction(
  "account.password",
  ChangeOwnPasswordInput,
  async (input, user) => {
    const { endedSessions } = await changeOwnPassword(user, input, clientAddress(await headers()));
    return { endedSessions };
  },
  { success: "Password changed" },
);
