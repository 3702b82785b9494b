"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { deleteHostsAction } from "../actions";
import { ConfirmDialog } from "./confirm-dialog";

export function DeleteHostButton({ id, name }: { id: string; name: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function confirm() {
    startTransition(async () => {
      const res = await deleteHostsAction({ hostIds: [id] });
      if (!res.ok) {
        setOpen(false);
        setError(res.error);
        return;
      }
      router.push("/hosts");
      router.refresh();
    });
  }

  return (
    <>
      <Button type="button" variant="danger" onClick={() => setOpen(true)}>
        Delete host…
      </Button>
      {error && <Alert kind="error">{error}</Alert>}
      <ConfirmDialog open={open} title={`Delete ${name}?`} confirmLabel={`Delete ${name}`} pending={pending} onConfirm={confirm} onCancel={() => setOpen(false)}>
        <p>The host is removed with its endpoints, scan results and exceptions. The audit log keeps the record. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
