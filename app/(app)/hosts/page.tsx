import { requirePageUser } from "@/lib/auth/guard";
import { EmptyState } from "@/app/_components/ui/card";

export default async function HostsPage() {
  await requirePageUser("read");
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Hosts</h1>
      <EmptyState title="Nothing here yet" />
    </div>
  );
}
