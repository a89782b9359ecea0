// Losing the network: messages written offline wait in the queue (and say
// so), then go out exactly once, in order, when the connection is back.
import { expect, test, type WebSocketRoute } from '@playwright/test';

import {
  connectionBanner,
  expectConnected,
  expectStatus,
  message,
  openRoom,
  say,
  shot,
  signIn,
  timelineLabels,
  uniqueRoom,
} from '../support/chat';
import { SHARED_PARLEYD_PORT } from '../support/env';
import { runProtocolClient } from '../support/servers';

/** Carol (a third client, no browser) says `text` in the room; resolves once the server took it. */
async function carolSays(room: string, text: string): Promise<void> {
  const url = `ws://127.0.0.1:${SHARED_PARLEYD_PORT}/ws`;
  await runProtocolClient({ url, userId: 'carol', name: 'carol', roomId: room, messages: [text] });
}

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
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');
  await shot(alice.page, 'offline-alice-queued');
  // Carol writes after alice's three: once bob has carol's, he would have
  // alice's too had they gone out (the server orders the room).
  await carolSays(room, 'sentinel while alice is offline');
  await expect(message(bob.page, 'carol', 'sentinel while alice is offline')).toBeVisible();
  for (const t of texts) await expect(message(bob.page, 'alice', t)).toHaveCount(0);
  // Still queued: nothing went out while offline.
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');

  await alice.context.setOffline(false);
  await expectConnected(alice.page, 10_000);
  await expect(connectionBanner(alice.page)).toBeHidden();
  for (const t of texts) {
    await expect(message(bob.page, 'alice', t)).toBeVisible();
    await expectStatus(message(alice.page, 'alice', t), CONFIRMED);
  }
  // Settled: once carol's later message is on both sides, a duplicate or a
  // late resend of alice's would be too.
  await carolSays(room, 'sentinel after recovery');
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'carol', 'sentinel after recovery')).toBeVisible();
    expect(await timelineLabels(page)).toEqual([
      'alice: still online',
      'carol: sentinel while alice is offline',
      ...texts.map((t) => `alice: ${t}`),
      'carol: sentinel after recovery',
    ]);
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
          void ws.close({ code: 1013, reason: 'try again later' });
          return;
        }
        const server = ws.connectToServer();
        server.onMessage((frame) => {
          if (dropOnFrameContaining !== null && typeof frame === 'string' && frame.includes(dropOnFrameContaining)) {
            // The server stored the message, but alice never hears of it on this socket.
            dropOnFrameContaining = null;
            void ws.close({ code: 1011, reason: 'dropped by the test' });
            void server.close();
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
  await expectStatus(message(alice.page, 'alice', 'in flight'), CONFIRMED);

  // 2. The socket drops and reconnecting fails for a while: the banner counts
  // down, messages queue, and "Retry now" brings everything through.
  refuseNew = true;
  await sockets.at(-1)!.close({ code: 1001, reason: 'network gone' });
  await expect(connectionBanner(alice.page)).toContainText(/Reconnecting/);
  await say(alice.page, 'during the drop 1');
  await say(alice.page, 'during the drop 2');
  await expectStatus(message(alice.page, 'alice', 'during the drop 1'), 'Queued');
  await expectStatus(message(alice.page, 'alice', 'during the drop 2'), 'Queued');
  // Wait for a countdown long enough that the click, not the timer, reconnects.
  await expect(connectionBanner(alice.page)).toContainText(/Reconnecting in ([3-9]|1\d) s…/, { timeout: 30_000 });
  await shot(alice.page, 'sockets-drop-alice-reconnecting');
  refuseNew = false;
  await connectionBanner(alice.page).getByRole('button', { name: 'Retry now' }).click();
  await expectConnected(alice.page, 2_000);
  for (const t of ['during the drop 1', 'during the drop 2']) {
    await expect(message(bob.page, 'alice', t)).toBeVisible();
    await expectStatus(message(alice.page, 'alice', t), CONFIRMED);
  }

  // Settled once bob's answer, written after all of alice's, is on both
  // sides: then each of hers must be there exactly once, in order.
  await say(bob.page, 'got them all');
  const expected = [
    ...['before the drop', 'in flight', 'during the drop 1', 'during the drop 2'].map((t) => `alice: ${t}`),
    'bob: got them all',
  ];
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'bob', 'got them all')).toBeVisible();
    expect(await timelineLabels(page)).toEqual(expected);
  }
  await shot(alice.page, 'sockets-drop-alice-recovered');
  await alice.context.close();
  await bob.context.close();
});
