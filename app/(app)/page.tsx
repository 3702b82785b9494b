import { requirePageUser } from "@/lib/auth/guard";
import { EmptyState } from "@/app/_components/ui/card";

export default async function OverviewPage() {
  await requirePageUser("read");
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Overview</h1>
      <EmptyState title="No hosts yet">Import a CSV or add a host on the Hosts page, then scan to see which servers still accept TLS 1.0/1.1.</EmptyState>
    </div>
  );
}
