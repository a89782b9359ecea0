// Receipts: alice's message is delivered as soon as bob's client has it
// (the room stays joined from the sidebar), and seen once bob opens the room.
import { expect, test } from '@playwright/test';

import { expectStatus, message, openRoom, say, shot, signIn, uniqueRoom } from '../support/chat';

test('bob reads alice’s message and alice sees "Seen by bob"', async ({ browser }) => {
  const room = uniqueRoom('receipts');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  // Bob looks at another room; the one with alice stays in his sidebar.
  const bobRooms = bob.page.getByRole('navigation', { name: 'Rooms' });
  await bobRooms.getByRole('link', { name: 'lobby' }).click();
  await expect(bob.page.getByRole('heading', { level: 1 })).toHaveText('#lobby');

  await say(alice.page, 'did you read this?');
  const mine = message(alice.page, 'alice', 'did you read this?');
  await expectStatus(mine, 'Delivered');
  await expect(bobRooms.getByRole('link', { name: room })).toContainText('1 unread');
  await shot(alice.page, 'receipts-alice-delivered');

  await bobRooms.getByRole('link', { name: room }).click();
  await expect(message(bob.page, 'alice', 'did you read this?')).toBeVisible();
  await expectStatus(mine, 'Seen by bob');
  await expect(bobRooms.getByRole('link', { name: room })).not.toContainText('unread');
  await shot(alice.page, 'receipts-alice-seen-by-bob');
  await alice.context.close();
  await bob.context.close();
});
