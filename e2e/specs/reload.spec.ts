// A reload while parleyd is down: the queued messages come back from
// IndexedDB (still queued), and once parleyd is back they are delivered
// exactly once.
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
import { ownStack } from '../support/servers';

const stack = ownStack();

test('queued messages survive a reload and are delivered once when parleyd is back', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('reload');
  const alice = await signIn(browser, 'alice', { baseURL: stack.demo.url });
  const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  await say(alice.page, 'before the outage');
  await expect(message(bob.page, 'alice', 'before the outage')).toBeVisible();

  await stack.parleyd.stop();
  await expect(connectionBanner(alice.page)).toContainText('Reconnecting');
  const texts = ['kept in the queue 1', 'kept in the queue 2'];
  for (const t of texts) await say(alice.page, t);
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');

  // The reload lands back in the same room, signed in, with the queue.
  await alice.page.reload();
  await expect(alice.page.getByRole('heading', { level: 1 })).toHaveText(`#${room}`);
  for (const t of texts) await expectStatus(message(alice.page, 'alice', t), 'Queued');
  await expect(connectionBanner(alice.page)).toContainText('Reconnecting');
  expect(await timelineLabels(alice.page)).toEqual(['alice: before the outage', ...texts.map((t) => `alice: ${t}`)]);
  await shot(alice.page, 'reload-alice-queued-after-reload');

  await stack.parleyd.start();
  await expectConnected(alice.page, 15_000);
  await expectConnected(bob.page, 15_000);
  for (const t of texts) {
    await expect(message(bob.page, 'alice', t)).toBeVisible();
    await expectStatus(message(alice.page, 'alice', t), /^(Sent|Delivered|Seen by bob)$/);
  }
  // Settled once bob's answer, written after alice's, is on both sides: each
  // of hers exactly once, in order.
  await say(bob.page, 'both arrived');
  const expected = ['alice: before the outage', ...texts.map((t) => `alice: ${t}`), 'bob: both arrived'];
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'bob', 'both arrived')).toBeVisible();
    expect(await timelineLabels(page)).toEqual(expected);
  }

  // Another reload: the server's history, still once each.
  await alice.page.reload();
  await expectConnected(alice.page);
  await expect(message(alice.page, 'alice', texts[1])).toBeVisible();
  expect(await timelineLabels(alice.page)).toEqual(expected);
  await shot(bob.page, 'reload-bob-received');
  await alice.context.close();
  await bob.context.close();
});
