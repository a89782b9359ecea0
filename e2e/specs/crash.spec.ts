// parleyd is killed (SIGKILL) mid-conversation. Both clients say they are
// reconnecting with a countdown and recover by themselves once it is back on
// the same data folder; what a third client (a Node script speaking the
// protocol) sent while bob was away is replayed to bob, in order.
import { expect, test } from '@playwright/test';

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
import { ownStack, runProtocolClient } from '../support/servers';

const stack = ownStack();

test('clients survive a parleyd crash and get what they missed', async ({ browser }) => {
  test.setTimeout(120_000);
  const room = uniqueRoom('crash');
  const alice = await signIn(browser, 'alice', { baseURL: stack.demo.url });
  const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  await say(alice.page, 'are you there?');
  await expect(message(bob.page, 'alice', 'are you there?')).toBeVisible();
  await say(bob.page, 'yes');
  await expect(message(alice.page, 'bob', 'yes')).toBeVisible();

  await stack.parleyd.kill();
  for (const u of [alice, bob]) {
    const banner = connectionBanner(u.page);
    await expect(banner).toContainText(/Reconnecting in \d+ s…/, { timeout: 20_000 });
    await expect(banner.getByRole('button', { name: 'Retry now' })).toBeVisible();
    await expect(u.page.getByRole('status', { name: 'Connection status' })).toHaveText('Reconnecting…');
  }
  await shot(alice.page, 'crash-alice-reconnecting');
  await shot(bob.page, 'crash-bob-reconnecting');

  // The countdown counts down.
  const seconds = async () =>
    Number(
      (await connectionBanner(alice.page).textContent({ timeout: 20_000 }))?.match(/Reconnecting in (\d+) s/)?.[1],
    );
  // A wait of 2 s or more (so the next second is seen before a new attempt
  // starts another countdown), then one second less.
  let first = 0;
  await expect
    .poll(async () => (first = await seconds()), { timeout: 30_000, intervals: [100] })
    .toBeGreaterThanOrEqual(2);
  await expect.poll(seconds, { timeout: 3000, intervals: [100] }).toBeLessThan(first);

  // Bob is away (no network) while the server comes back.
  await bob.context.setOffline(true);
  await expect(connectionBanner(bob.page)).toHaveText('Offline — messages will be sent when you are back');
  await say(alice.page, 'written during the crash');
  await expectStatus(message(alice.page, 'alice', 'written during the crash'), 'Queued');

  await stack.parleyd.start(); // same port, same data folder
  // Alice recovers on her own (the backoff is at most 10 s).
  await expectConnected(alice.page, 15_000);
  await expect(connectionBanner(alice.page)).toBeHidden();
  await expectStatus(message(alice.page, 'alice', 'written during the crash'), /^(Sent|Delivered)$/);

  // Carol, a third client without a browser, writes while bob is away.
  const carolTexts = Array.from({ length: 5 }, (_, i) => `carol ${i + 1} of 5`);
  const sent = await runProtocolClient({
    url: stack.parleyd.wsUrl,
    userId: 'carol',
    name: 'carol',
    roomId: room,
    messages: carolTexts,
  });
  expect(sent.map((s) => s.content)).toEqual(carolTexts);
  for (const t of carolTexts) await expect(message(alice.page, 'carol', t)).toBeVisible();

  // Bob comes back: everything he missed, once each and in order.
  await bob.context.setOffline(false);
  await expectConnected(bob.page, 15_000);
  for (const t of carolTexts) await expect(message(bob.page, 'carol', t)).toBeVisible();
  await expect(message(bob.page, 'alice', 'written during the crash')).toBeVisible();
  // Settled once bob's own answer, written after all of it, is on both sides.
  await say(bob.page, 'back, caught up');
  const expected = [
    'alice: are you there?',
    'bob: yes',
    'alice: written during the crash',
    ...carolTexts.map((t) => `carol: ${t}`),
    'bob: back, caught up',
  ];
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'bob', 'back, caught up')).toBeVisible();
    expect(await timelineLabels(page)).toEqual(expected);
  }
  // The messages carry the server's seq: gap-free.
  const seqs = await bob.page
    .getByRole('log', { name: 'Messages' })
    .getByRole('listitem')
    .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  await shot(bob.page, 'crash-bob-caught-up');
  await alice.context.close();
  await bob.context.close();
});
