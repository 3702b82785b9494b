"use server";
import { authorizedAction } from "@/lib/auth/guard";
import { ChangeRoleInput, CreateUserInput, ResetPasswordInput, UserIdInput, changeRole, createUser, forceSignOut, resetPassword, setUserDisabled } from "@/lib/users/service";

const revalidate = ["/settings/users"];

export const createUserAction = authorizedAction("users.manage", CreateUserInput, (input, user) => createUser(user, input).then(() => undefined), {
  revalidate,
  success: "User created",
});

export const changeRoleAction = authorizedAction("users.manage", ChangeRoleInput, (input, user) => changeRole(user, input), { revalidate, success: "Role changed; the user's sessions were ended" });

export const disableUserAction = authorizedAction("users.manage", UserIdInput, (input, user) => setUserDisabled(user, input, true), { revalidate, success: "User disabled" });

export const enableUserAction = authorizedAction("users.manage", UserIdInput, (input, user) => setUserDisabled(user, input, false), { revalidate, success: "User enabled" });

export const forceSignOutAction = authorizedAction("users.manage", UserIdInput, (input, user) => forceSignOut(user, input), { revalidate, success: "All sessions of that user were ended" });

export const resetPasswordAction = authorizedAction("users.manage", ResetPasswordInput, (input, user) => resetPassword(user, input), {
  revalidate,
  success: "Password reset; the user's sessions were ended",
});
