import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  globalIgnores([".next/**", "node_modules/**", ".data/**", "test-results/**", "playwright-report/**", "lib/generated/**", "tests/lab/.state/**", "next-env.d.ts", "bench-results/**"]),
  {
    rules: {
      // Unused vars are errors, except deliberate `_name` placeholders.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // The CLI launcher is CommonJS on purpose (it registers tsx before loading TypeScript).
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // app/ is routes only: no database, SSH or TLS code in it (DESIGN.md "Layout").
    files: ["app/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["pg", "pg-boss", "node-ssh", "ssh2", "node:tls", "tls", "node:net", "net"], message: "app/ calls lib/ and agents/; it does not talk to databases or hosts itself." },
        { group: ["@/lib/db", "@/lib/db/*", "@/lib/generated/*"], message: "app/ reads data through lib/ services, not the Prisma client." },
      ] }],
    },
  },
  {
    // lib/ never imports app/ or agents/.
    files: ["lib/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["@/app/*", "**/app/*", "@/agents/*", "**/agents/*"], message: "Dependencies point one way: app -> lib, agents; agents -> lib." },
      ] }],
    },
  },
]);
