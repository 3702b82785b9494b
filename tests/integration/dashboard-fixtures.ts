// Shared by the dashboard-*.test.ts files. The Overview counts the WHOLE fleet, and other test files
// leave hosts behind in the run's database, so each dashboard file works in a migrated database of
// its own (tests/support/own-database.ts), and `prisma` is pointed at it for that file.
import { ownDatabaseForFile } from "../support/own-database";

/** Registers beforeAll/afterAll that point `prisma` at a fresh, migrated database for this file. */
export function withOwnDatabase(label: string) {
  ownDatabaseForFile(`dash_${label}`);
}

export const days = (n: number) => n * 86_400_000;
