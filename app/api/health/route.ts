import { NextResponse } from "next/server";
import { databaseHealthy } from "@/lib/health";

export const dynamic = "force-dynamic";

export async function GET() {
  const db = await databaseHealthy();
  return NextResponse.json({ status: db ? "ok" : "degraded", database: db ? "ok" : "unreachable" }, { status: db ? 200 : 503 });
}
