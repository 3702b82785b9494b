// Prisma 7 reads the datasource URL from here, not from schema.prisma.
// Only the Prisma CLI loads this file (generate, and `migrate deploy` on a machine that has
// the native schema engine); tlsfleet itself applies migrations with lib/db/migrate.ts.
import path from "node:path";
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  // Not `env("DATABASE_URL")` from prisma/config: that throws when the variable is unset, and
  // `prisma generate` (run from postinstall) must work without a database. The tlsfleet runtime
  // reads its configuration through lib/env.ts; this is CLI tooling only.
  datasource: { url: process.env.DATABASE_URL },
});
