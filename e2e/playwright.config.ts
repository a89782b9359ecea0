// End-to-end tests: Debian's Chromium drives the production build of the
// chat demo against a real parleyd. The shared stack (one parleyd, one
// `next start`) is started here; specs that kill or restart parleyd, or need
// other server flags or `next dev`, start their own (support/servers.ts).
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  PARLEYD_BIN,
  ROOT,
  SECRET,
  SHARED_DEMO_PORT,
  SHARED_OFFLINE_GRACE_MS,
  SHARED_PARLEYD_PORT,
  SHARED_TYPING_TTL_MS,
} from './support/env';

// A fresh SQLite folder per run: every run starts from an empty server.
const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
// And a fresh folder for the demo's uploads (lib/uploads.ts).
const uploadDir = mkdtempSync(join(tmpdir(), 'parley-e2e-uploads-'));

export default defineConfig({
  testDir: './specs',
  outputDir: './test-results',
  // One at a time: the machine is small and some specs kill servers.
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 5_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${SHARED_DEMO_PORT}`,
    headless: true,
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 760 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: [
        PARLEYD_BIN,
        `--host 127.0.0.1 --port ${SHARED_PARLEYD_PORT} --jwt-secret ${SECRET} --data-dir ${dataDir}`,
        `--offline-grace-ms ${SHARED_OFFLINE_GRACE_MS} --typing-ttl-ms ${SHARED_TYPING_TTL_MS}`,
      ].join(' '),
      url: `http://127.0.0.1:${SHARED_PARLEYD_PORT}/healthz`,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      command: `npm run start -w chat-nextjs -- -H 127.0.0.1 -p ${SHARED_DEMO_PORT}`,
      cwd: ROOT,
      url: `http://127.0.0.1:${SHARED_DEMO_PORT}`,
      reuseExistingServer: false,
      timeout: 120_000,
      env: {
        NEXT_TELEMETRY_DISABLED: '1',
        PARLEY_URL: `ws://127.0.0.1:${SHARED_PARLEYD_PORT}/ws`,
        PARLEY_JWT_SECRET: SECRET,
        PARLEY_UPLOAD_DIR: uploadDir,
      },
    },
  ],
});
