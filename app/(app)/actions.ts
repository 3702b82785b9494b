"use server";
import { z } from "zod";
import { authorizedAction, UserFacingError } from "@/lib/auth/guard";
import { seedDemoInventory, type DemoSeedResult } from "@/lib/inventory/demo";

// The Overview's empty state: fill a new install with demo hosts (refused once any host exists).
export const loadDemoInventoryAction = authorizedAction(
  "hosts.write",
  z.object({}),
  async (_input, user): Promise<DemoSeedResult> => {
    const result = await seedDemoInventory({ actor: { id: user.id, email: user.email } });
    if (result.created === 0) throw new UserFacingError(result.message);
    return result;
  },
  { revalidate: ["/", "/hosts"] },
);
