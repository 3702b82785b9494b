"use client";
import { useState, useTransition } from "react";
import { useRouter } from "next/navigation";
import { Button } from "@/app/_components/ui/button";
import { Alert } from "@/app/_components/ui/alert";
import { loadDemoInventoryAction } from "../actions";

export function LoadDemoButton() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: false; text: string } | null>(null);

  function load() {
    startTransition(async () => {
      const res = await loadDemoInventoryAction({ confirm: "load-demo-inventory" });
      // The empty state (and this button with it) goes away once hosts exist, so the Overview
      // itself says what was loaded and what to do next.
      if (res.ok) router.replace(`/?demo=${res.data?.lab ? "lab" : "example"}`);
      else setResult({ ok: false, text: res.error });
    });
  }

  return (
    <div className="flex flex-col items-center gap-3">
      <Button type="button" variant="secondary" onClick={load} disabled={pending}>
        {pending ? "Loading demo inventory…" : "Load demo inventory"}
      </Button>
      {result && <Alert kind="error">{result.text}</Alert>}
    </div>
  );
}
