// Losing the network: messages written offline wait in the queue (and say
// so), then go out exactly once, in order, when the connection is back.
import { expect, test, type WebSocketRoute } from '@playwright/test';

import {
  connectionBanner,
  expectConnected,
  message,
  openRoom,
  say,
  shot,
  signIn,
  statusOf,
  timelineLabels,
  uniqueRoom,
} from '../support/chat';

const CONFIRMED = /^(Sent|Delivered|Seen by bob)$/;

test('messages sent while offline are queued, then delivered once and in order', async ({ browser }) => {
  const room = uniqueRoom('offline');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  await say(alice.page, 'still online');
  await expect(message(bob.page, 'alice', 'still online')).toBeVisible();

  // Chromium keeps the open WebSocket alive; the client treats the browser's
  // `offline` event as a lost connection.
  await alice.context.setOffline(true);
  await expect(connectionBanner(alice.page)).toHaveText('Offline — messages will be sent when you are back');
  await expect(alice.page.getByRole('status', { name: 'Connection status' })).toHaveText('Offline');

  const texts = ['offline one', 'offline two', 'offline three'];
  for (const t of texts) await say(alice.page, t);
  for (const t of texts) await expect(statusOf(message(alice.page, 'alice', t))).toHaveText('Queued');
  await shot(alice.page, 'offline-alice-queued');
  for (const t of texts) await expect(message(bob.page, 'alice', t)).toHaveCount(0);
  // Still queued: nothing went out while offline.
  for (const t of texts) await expect(statusOf(message(alice.page, 'alice', t))).toHaveText('Queued');

  await alice.context.setOffline(false);
  await expectConnected(alice.page, 10_000);
  await expect(connectionBanner(alice.page)).toBeHidden();
  for (const t of texts) {
    await expect(message(bob.page, 'alice', t)).toBeVisible();
    await expect(statusOf(message(alice.page, 'alice', t))).toHaveText(CONFIRMED);
  }
  for (const page of [alice.page, bob.page]) {
    const labels = await timelineLabels(page);
    expect(labels).toEqual(['alice: still online', ...texts.map((t) => `alice: ${t}`)]);
  }
  await shot(alice.page, 'offline-alice-back');
  await shot(bob.page, 'offline-bob-received');
  await alice.context.close();
  await bob.context.close();
});

test('a dropped socket recovers without losing or duplicating messages', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('drop');
  // Alice's WebSockets go through a route that can drop them (closing the
  // page's side with a code), swallow frames, or refuse new ones.
  const sockets: WebSocketRoute[] = [];
  let refuseNew = false;
  let dropOnFrameContaining: string | null = null;
  const alice = await signIn(browser, 'alice', {
    setup: (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        sockets.push(ws);
        if (refuseNew) {
          ws.close({ code: 1013, reason: 'try again later' });
          return;
        }
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          if (dropOnFrameContaining !== null && typeof frame === 'string' && frame.includes(dropOnFrameContaining)) {
            // The server stored the message, but alice never hears of it on this socket.
            dropOnFrameContaining = null;
            ws.close({ code: 1011, reason: 'dropped by the test' });
            server.close();
            return;
          }
          ws.send(frame);
        });
      }),
  });
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  await say(alice.page, 'before the drop');
  await expect(message(bob.page, 'alice', 'before the drop')).toBeVisible();
  expect(sockets).toHaveLength(1);

  // 1. The socket drops right after the server took a message, before the
  // ack: alice's client must not lose it nor send it twice.
  dropOnFrameContaining = '"content":"in flight"';
  await say(alice.page, 'in flight');
  await expect.poll(() => sockets.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  await expectConnected(alice.page, 10_000);
  await expect(statusOf(message(alice.page, 'alice', 'in flight'))).toHaveText(CONFIRMED);
  await expect(message(bob.page, 'alice', 'in flight')).toHaveCount(1);

  // 2. The socket drops and reconnecting fails for a while: the banner counts
  // down, messages queue, and "Retry now" brings everything through.
  refuseNew = true;
  sockets.at(-1)!.close({ code: 1001, reason: 'network gone' });
  await expect(connectionBanner(alice.page)).toContainText(/Reconnecting/);
  await say(alice.page, 'during the drop 1');
  await say(alice.page, 'during the drop 2');
  await expect(statusOf(message(alice.page, 'alice', 'during the drop 1'))).toHaveText('Queued');
  await expect(statusOf(message(alice.page, 'alice', 'during the drop 2'))).toHaveText('Queued');
  // Wait for a countdown long enough that the click, not the timer, reconnects.
  await expect(connectionBanner(alice.page)).toContainText(/Reconnecting in ([3-9]|1\d) s…/, { timeout: 30_000 });
  await shot(alice.page, 'sockets-drop-alice-reconnecting');
  refuseNew = false;
  await connectionBanner(alice.page).getByRole('button', { name: 'Retry now' }).click();
  await expectConnected(alice.page, 2_000);
  for (const t of ['during the drop 1', 'during the drop 2']) {
    await expect(message(bob.page, 'alice', t)).toBeVisible();
    await expect(statusOf(message(alice.page, 'alice', t))).toHaveText(CONFIRMED);
  }

  const expected = ['before the drop', 'in flight', 'during the drop 1', 'during the drop 2'].map((t) => `alice: ${t}`);
  for (const page of [alice.page, bob.page]) {
    await expect.poll(() => timelineLabels(page)).toEqual(expected);
  }
  await shot(alice.page, 'sockets-drop-alice-recovered');
  await alice.context.close();
  await bob.context.close();
});
