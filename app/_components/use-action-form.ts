import { useState, useTransition } from "react";
import type { ActionResult } from "@/lib/auth/guard";

/** What a form shows after its action answered: the success text, or the error and each field's messages. */
export interface FormOutcome {
  ok: boolean;
  text: string;
  fieldErrors?: Record<string, string[]>;
}

/**
 * The one way a form sends a server action: on submit, `read` takes the input from the form's
 * fields, `action` runs in a transition (`pending` meanwhile), and the outcome is kept for the form
 * to show: `done`'s text on success, the action's error otherwise, with `fieldError(name)` for the
 * message under a field. A success clears the form unless `reset` is false (controlled fields).
 */
export function useActionForm<I, T>(opts: {
  read: (form: FormData) => I;
  action: (input: I) => Promise<ActionResult<T>>;
  done: (input: I, data: T | undefined) => string;
  reset?: boolean;
}) {
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<FormOutcome | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const input = opts.read(new FormData(form));
    startTransition(async () => {
      const res = await opts.action(input);
      if (res.ok) {
        setResult({ ok: true, text: opts.done(input, res.data) });
        if (opts.reset !== false) form.reset();
      } else setResult({ ok: false, text: res.error, fieldErrors: res.fieldErrors });
    });
  }

  const fieldError = (name: string) => result?.fieldErrors?.[name]?.[0];
  return { onSubmit, pending, result, fieldError };
}
