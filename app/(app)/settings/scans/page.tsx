import type { Metadata } from "next";
import { requirePageUser } from "@/lib/auth/guard";
import { cronForSchedule, envAllowedTargets, getSetting, storedAllowedTargets } from "@/lib/settings";
import { Card } from "@/app/_components/ui/card";
import { ScanSettingsForm } from "./components/scan-settings-form";

export const metadata: Metadata = { title: "Scan settings" };

export default async function ScanSettingsPage() {
  await requirePageUser("settings.manage");
  const [rescanSchedule, driftWebhookUrl, allowedTargets] = await Promise.all([getSetting("rescanSchedule"), getSetting("driftWebhookUrl"), storedAllowedTargets()]);
  const fallback = envAllowedTargets();
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Scan settings</h1>
      <Card>
        <ScanSettingsForm initial={{ rescanSchedule, driftWebhookUrl: driftWebhookUrl ?? "", allowedTargets: allowedTargets.join("\n") }} envAllowedTargets={fallback} currentCron={cronForSchedule(rescanSchedule)} />
      </Card>
    </div>
  );
}
