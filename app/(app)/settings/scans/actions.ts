"use server";
import { authorizedAction } from "@/lib/auth/guard";
import { ScanSettingsInput, updateScanSettings } from "@/lib/jobs/schedule";

// Admins only: the allowed ranges decide what this scanner may touch (docs/security.md "Allowed targets").
export const saveScanSettingsAction = authorizedAction("settings.manage", ScanSettingsInput, (input, user) => updateScanSettings(user, input), {
  revalidate: ["/settings/scans"],
  success: "Scan settings saved",
});
