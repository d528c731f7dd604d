import { defineConfig } from "@playwright/test";

// The server under test: the binary built by `cargo leptos build`, started on a
// fresh SQLite file with the demo club. scripts/test.sh sets these variables.
const port = Number(process.env.E2E_PORT ?? "3456");
const serverCommand = process.env.E2E_SERVER_CMD;
if (!serverCommand) {
  throw new Error("E2E_SERVER_CMD is not set: run the end-to-end tests through scripts/test.sh");
}

export default defineConfig({
  testDir: "./tests",
  // A test of many steps (a sale, a card, two moves of the clock) takes 15-20 s
  // alone and has been seen at 30 s on this 2-core machine when it runs while
  // the server does its first daily work; a hang still fails, at 60 s.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
    { name: "phone", use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } },
  ],
  webServer: {
    command: serverCommand,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
  },
});
