// End-to-end tests: Debian's Chromium drives the production build of the
// chat demo against a real parleyd. Both servers are started here.
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
// A fresh SQLite folder per run: every run starts from an empty server.
const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
const PARLEYD_PORT = 18787;
const DEMO_PORT = 13000;
const secret = 'e2e-secret-not-for-production';

export default defineConfig({
  testDir: './specs',
  outputDir: './test-results',
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${DEMO_PORT}`,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: [
    {
      command: `${root}/build/native/server/parleyd --port ${PARLEYD_PORT} --jwt-secret ${secret} --data-dir ${dataDir}`,
      url: `http://127.0.0.1:${PARLEYD_PORT}/healthz`,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `npm run start -w chat-nextjs -- -H 127.0.0.1 -p ${DEMO_PORT}`,
      cwd: root,
      url: `http://127.0.0.1:${DEMO_PORT}`,
      reuseExistingServer: false,
      timeout: 120_000,
      env: {
        NEXT_TELEMETRY_DISABLED: '1',
        PARLEY_URL: `ws://127.0.0.1:${PARLEYD_PORT}/ws`,
        PARLEY_JWT_SECRET: secret,
      },
    },
  ],
});
