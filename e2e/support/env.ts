// Shared by the Playwright config and the specs: where things are, and the
// secret that parleyd and the demo's token route share.
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const DEMO_DIR = resolve(ROOT, 'examples', 'chat-nextjs');
export const PARLEYD_BIN = resolve(ROOT, 'build', 'native', 'server', 'parleyd');
export const ARTIFACTS = resolve(ROOT, 'e2e', 'artifacts');
export const SECRET = 'e2e-secret-not-for-production';

// The stack every spec shares (started by the config's webServer).
export const SHARED_PARLEYD_PORT = 18787;
export const SHARED_DEMO_PORT = 13000;
// Lowered on the shared parleyd so presence and typing tests take seconds, not minutes.
export const SHARED_OFFLINE_GRACE_MS = 1500;
export const SHARED_TYPING_TTL_MS = 1500;
