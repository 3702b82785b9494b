"use client";
import { useState } from "react";
import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { Button } from "@/app/_components/ui/button";
import { TextField } from "@/app/_components/ui/field";
import { Alert } from "@/app/_components/ui/alert";

export function signInErrorMessage(code: string | null | undefined, status?: number): string | null {
  if (!code && status !== 429 && status !== 503) return null;
  if (code === "TooManyAttempts" || status === 429) return "Too many failed sign-ins for this account. Wait up to 15 minutes and try again.";
  if (code === "ServerBusy" || status === 503) return "The server is busy with other sign-ins. Try again in a few seconds.";
  if (code === "CredentialsSignin") return "Wrong e-mail or password.";
  return "Sign-in failed. Try again.";
}

export function LoginForm({ initialError }: { initialError?: string }) {
  const [error, setError] = useState<string | null>(signInErrorMessage(initialError));
  const [pending, setPending] = useState(false);
  const router = useRouter();

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setPending(true);
    setError(null);
    const form = new FormData(e.currentTarget);
    const res = await signIn("credentials", { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? ""), redirect: false });
    if (res?.ok && !res.error) {
      router.replace("/");
      router.refresh();
      return;
    }
    setPending(false);
    setError(signInErrorMessage(res?.error ?? "CredentialsSignin", res?.status));
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" noValidate>
      {error && <Alert>{error}</Alert>}
      <TextField label="E-mail" id="email" name="email" type="email" autoComplete="username" required autoFocus />
      <TextField label="Password" id="password" name="password" type="password" autoComplete="current-password" required />
      <Button type="submit" disabled={pending}>{pending ? "Signing in…" : "Sign in"}</Button>
    </form>
  );
}
