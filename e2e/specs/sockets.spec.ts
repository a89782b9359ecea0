// One tab opens one WebSocket: in the production build, and in `next dev`
// where React Strict Mode mounts every effect twice. Counted by parleyd
// (parley_connections_opened_total on /metrics) and by the browser.
import { expect, test, type Page } from '@playwright/test';

import { expectConnected, expectStatus, message, openRoom, say, shot, uniqueRoom } from '../support/chat';
import { Demo, Parleyd } from '../support/servers';

let parleyd: Parleyd;

test.beforeAll(async () => {
  parleyd = await Parleyd.start();
});

test.afterAll(async () => {
  await parleyd?.stop();
});

/** Counts the page's WebSockets: to parleyd, and others (next dev's hot reloading). */
function countSockets(page: Page, port: number): { parley: () => number; other: () => number } {
  let parley = 0;
  let other = 0;
  page.on('websocket', (ws) => {
    if (ws.url().includes(`:${port}/ws`)) parley++;
    else other++;
  });
  return { parley: () => parley, other: () => other };
}

for (const mode of ['start', 'dev'] as const) {
  test(`one tab opens one socket (next ${mode}${mode === 'dev' ? ', React Strict Mode' : ''})`, async ({ browser }) => {
    test.setTimeout(mode === 'dev' ? 300_000 : 90_000);
    const demo = await Demo.start(parleyd.wsUrl, mode);
    try {
      const before = await parleyd.metric('parley_connections_opened_total');
      const context = await browser.newContext({ baseURL: demo.url });
      const page = await context.newPage();
      const sockets = countSockets(page, parleyd.port);
      await page.goto('/');
      await page.getByLabel('Display name').fill(`sock-${mode}`);
      await page.getByRole('button', { name: 'Join chat' }).click();
      await expectConnected(page, mode === 'dev' ? 60_000 : 10_000);

      // Use the app a little: rooms, a message, its confirmation.
      await openRoom(page, uniqueRoom(`sockets-${mode}`));
      await say(page, 'one socket only');
      await expectStatus(message(page, `sock-${mode}`, 'one socket only'), 'Sent');
      await page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: 'lobby' }).click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('#lobby');

      if (mode === 'dev') {
        // Really the development server (hot reloading), where Strict Mode double-mounts.
        expect(sockets.other()).toBeGreaterThanOrEqual(1);
      }
      expect(sockets.parley()).toBe(1);
      expect(await parleyd.metric('parley_connections_opened_total')).toBe(before + 1);
      expect(await parleyd.metric('parley_connections')).toBe(1);
      await shot(page, `sockets-${mode}-one-socket`);

      // A reload replaces it: one more opened, still one open.
      await page.reload();
      await expectConnected(page, 30_000);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('#lobby');
      expect(sockets.parley()).toBe(2);
      expect(await parleyd.metric('parley_connections_opened_total')).toBe(before + 2);
      await expect.poll(() => parleyd.metric('parley_connections')).toBe(1);
      await shot(page, `sockets-${mode}-after-reload`);
      await context.close();
      await expect.poll(() => parleyd.metric('parley_connections')).toBe(0);
    } finally {
      await demo.stop();
    }
  });
}
