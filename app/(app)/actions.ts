"use server";
import { z } from "zod";
import { authorizedAction, UserFacingError } from "@/lib/auth/guard";
import { seedDemoInventory, type DemoSeedResult } from "@/lib/inventory/demo";

// The Overview's empty state: fill a new install with demo hosts (refused once any host exists).
// The explicit `confirm` keeps a stray call (or the authz test's `{}`) from seeding an inventory.
export const loadDemoInventoryAction = authorizedAction(
  "hosts.write",
  z.object({ confirm: z.literal("load-demo-inventory") }),
  async (_input, user): Promise<DemoSeedResult> => {
    const result = await seedDemoInventory({ actor: { id: user.id, email: user.email, role: user.role } });
    if (result.created === 0) throw new UserFacingError(result.message);
    return result;
  },
  { revalidate: ["/", "/hosts"] },
);
