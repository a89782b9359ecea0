// A connection attempt that never completes: the socket opens and then
// carries nothing, and never closes (a black-holing proxy). The client gives
// up on it after the handshake timeout (10 s by default) and retries with
// backoff; once a real socket is possible, the queued messages go out, each
// delivered once. (A browser run once left two users on "Reconnecting…" for
// over a minute, with 14–15 messages queued and never sent.)
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

interface Routed {
  ws: WebSocketRoute;
  server?: WebSocketRoute;
  blackHoled: boolean;
  /** Frames the page sent into the black hole. */
  swallowed: string[];
  /** The page closed it (the client gave up on it). */
  closedByPage: boolean;
}

test('an attempt that hears nothing is abandoned and retried; the queue then drains, each message once', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const room = uniqueRoom('blackhole');
  const routed: Routed[] = [];
  let blackHole = false;
  const alice = await signIn(browser, 'alice', {
    setup: (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        const entry: Routed = { ws, blackHoled: blackHole, swallowed: [], closedByPage: false };
        routed.push(entry);
        if (!entry.blackHoled) {
          entry.server = ws.connectToServer(); // a real socket: frames pass both ways
          return;
        }
        // Accepted (the page sees it open) and then nothing, either way, ever.
        ws.onMessage((frame) => entry.swallowed.push(String(frame)));
        ws.onClose(() => {
          entry.closedByPage = true;
        });
      }),
  });
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  await say(alice.page, 'before the black hole');
  await expect(message(bob.page, 'alice', 'before the black hole')).toBeVisible();
  expect(routed).toHaveLength(1);

  // The network path changes: the open socket drops, and every new one goes
  // into a black hole.
  blackHole = true;
  await routed[0].ws.close({ code: 1001, reason: 'network changed' });
  await routed[0].server!.close();
  await expect(connectionBanner(alice.page)).toContainText('Reconnecting');
  const texts = Array.from({ length: 15 }, (_, i) => `queued ${i + 1}`);
  for (const t of texts) await say(alice.page, t);
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');
  await shot(alice.page, 'handshake-black-holed-queued');

  // Each black-holed attempt said hello into the void, heard nothing, and
  // was closed by the client at its deadline; the next one followed.
  await expect
    .poll(() => routed.filter((r) => r.blackHoled && r.closedByPage).length, { timeout: 40_000 })
    .toBeGreaterThanOrEqual(2);
  const abandoned = routed.filter((r) => r.blackHoled && r.closedByPage);
  for (const r of abandoned) expect((JSON.parse(r.swallowed[0]) as { type: string }).type).toBe('hello');
  await expect.poll(() => routed.filter((r) => r.blackHoled).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');

  // A real socket is possible again: the next attempt connects and the
  // queue drains.
  blackHole = false;
  await expectConnected(alice.page, 20_000);
  await expect(connectionBanner(alice.page)).toBeHidden();
  for (const t of texts) await expect(message(bob.page, 'alice', t)).toBeVisible();
  await say(bob.page, 'all fifteen here');
  const expected = ['alice: before the black hole', ...texts.map((t) => `alice: ${t}`), 'bob: all fifteen here'];
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'bob', 'all fifteen here')).toBeVisible();
    expect(await timelineLabels(page)).toEqual(expected);
  }
  await shot(alice.page, 'handshake-recovered');
  await alice.context.close();
  await bob.context.close();
});
