// Token refresh in place: with tokens that live a few seconds, the client
// fetches a fresh one before each expires and hands it to parleyd on the
// open socket (`auth`). One socket across several expiries, and messages
// keep flowing both ways.
import { expect, test, type BrowserContext } from '@playwright/test';

import { expectConnected, message, openRoom, say, shot, signIn, uniqueRoom } from '../support/chat';
import { SHARED_PARLEYD_PORT } from '../support/env';
import { signToken } from '../support/tokens';

const LIFETIME_S = 5;

async function openedTotal(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${SHARED_PARLEYD_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('parley_connections_opened_total '));
  return Number(line!.split(' ')[1]);
}

/** The demo's token route, answered by the test with short-lived tokens; returns when each was issued. */
async function shortLivedTokens(context: BrowserContext, userId: string): Promise<number[]> {
  const issued: number[] = [];
  await context.route('**/api/token', async (route) => {
    const { name } = route.request().postDataJSON() as { name: string };
    issued.push(Date.now());
    await route.fulfill({ json: { token: signToken(userId, name, LIFETIME_S), user: { id: userId, name } } });
  });
  return issued;
}

test('a short-lived token is refreshed on the open socket: one socket across several expiries', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('refresh');
  const before = await openedTotal();
  let issued: number[] = [];
  const sockets: { url: string; closed: boolean }[] = [];
  const alice = await signIn(browser, 'alice', {
    setup: async (context) => {
      issued = await shortLivedTokens(context, 'alice');
      context.on('page', (page) =>
        page.on('websocket', (ws) => {
          const s = { url: ws.url(), closed: false };
          sockets.push(s);
          ws.on('close', () => (s.closed = true));
        }),
      );
    },
  });
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  // Until three tokens have expired (each at most LIFETIME_S after it was
  // issued), a message each way after every refresh.
  let round = 0;
  while (issued.length < 3 || Date.now() <= issued[2] + LIFETIME_S * 1000) {
    const seen = issued.length;
    // (A refresh is due halfway through a token's life; the bound is generous for a busy machine.)
    await expect.poll(() => issued.length, { timeout: LIFETIME_S * 2000 }).toBeGreaterThan(seen);
    round++;
    await say(alice.page, `alice after refresh ${round}`);
    await expect(message(bob.page, 'alice', `alice after refresh ${round}`)).toBeVisible();
    await say(bob.page, `bob after refresh ${round}`);
    await expect(message(alice.page, 'bob', `bob after refresh ${round}`)).toBeVisible();
  }
  await expectConnected(alice.page);
  expect(round).toBeGreaterThanOrEqual(3);
  expect(sockets.map((s) => s.closed)).toEqual([false]);
  expect(await openedTotal()).toBe(before + 2); // alice's one socket and bob's
  await shot(alice.page, 'token-refresh-one-socket');
  await alice.context.close();
  await bob.context.close();
});
