import { defineConfig } from "@playwright/test";

// End-to-end against `next build` + `tlsfleet start --no-build` in Debian's Chromium.
// One host name everywhere (localhost): next-auth cookies are bound to it.
const PORT = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://localhost:${PORT}`;
export const E2E_ADMIN = { email: "e2e-admin@example.test", password: "e2e-admin-password-123" };

export default defineConfig({
  testDir: "tests/e2e",
  // Separate output folders let several e2e runs share one checkout (each run empties its own).
  outputDir: process.env.E2E_OUTPUT_DIR ?? "test-results/artifacts",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  webServer: {
    command: "node bin/tlsfleet start --no-build",
    url: `${baseURL}/api/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(PORT),
      // Loopback only (both families: "localhost" may resolve to either).
      LISTEN_HOST: "127.0.0.1,::1",
      NEXTAUTH_URL: baseURL,
      DATA_DIR: process.env.E2E_DATA_DIR ?? ".data/e2e",
      TLSFLEET_ADMIN_EMAIL: E2E_ADMIN.email,
      TLSFLEET_ADMIN_PASSWORD: E2E_ADMIN.password,
      ...(process.env.E2E_DATABASE_URL ? { DATABASE_URL: process.env.E2E_DATABASE_URL } : {}),
      LOG_LEVEL: "warn",
      // Scans in the e2e tests may reach loopback and the lab fleet only (DESIGN.md "Security model").
      TLSFLEET_ALLOWED_TARGETS: "127.0.0.0/8,198.18.0.0/15",
    },
  },
});
