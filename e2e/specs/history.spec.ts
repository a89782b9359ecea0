// Older history: a room opens on its latest page; scrolling to the top loads
// the page before it without moving what the reader is looking at.
// Against a parleyd of its own, seeded by the protocol client (120 messages).
import { expect, test } from '@playwright/test';

import { message, openRoom, shot, signIn, timeline, timelineLabels, uniqueRoom } from '../support/chat';
import { ownStack, runProtocolClient } from '../support/servers';

const stack = ownStack(['--rate-messages', '1000/1000', '--user-rate-messages', '1000/1000']);

test('scrolling to the top loads older messages and keeps the scroll position', async ({ browser }) => {
  const room = uniqueRoom('history');
  const texts = Array.from({ length: 120 }, (_, i) => `history ${String(i + 1).padStart(3, '0')}`);
  await runProtocolClient({ url: stack.parleyd.wsUrl, userId: 'carol', name: 'carol', roomId: room, messages: texts });

  const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
  await openRoom(bob.page, room);
  // The latest page (50), scrolled to the newest.
  await expect(message(bob.page, 'carol', 'history 120')).toBeInViewport();
  expect(await timelineLabels(bob.page)).toEqual(texts.slice(70).map((t) => `carol: ${t}`));
  await expect(timeline(bob.page).getByRole('button', { name: 'Load older messages' })).toBeAttached();

  // Scroll to the top: the previous 50 arrive above, the reader stays on 071.
  const anchor = message(bob.page, 'carol', 'history 071');
  // Where 071 is on screen at the top, measured before the scroll event is handled.
  const before = await timeline(bob.page).evaluate((el) => {
    el.scrollTop = 0;
    return el.querySelector('li[aria-label="carol: history 071"]')!.getBoundingClientRect().bottom;
  });
  await expect(message(bob.page, 'carol', 'history 021')).toBeAttached();
  await expect(anchor).toBeInViewport();
  const after = (await anchor.boundingBox())!;
  // (Its header folds into the group above it: it may move by a line.)
  expect(Math.abs(after.y + after.height - before)).toBeLessThan(40);
  expect(await timelineLabels(bob.page)).toEqual(texts.slice(20).map((t) => `carol: ${t}`));
  await shot(bob.page, 'history-older-page');

  // Once more: the first 20, and the beginning of the room.
  await timeline(bob.page).evaluate((el) => (el.scrollTop = 0));
  await expect(message(bob.page, 'carol', 'history 001')).toBeAttached();
  await expect(timeline(bob.page).getByText(`This is the beginning of #${room}.`)).toBeAttached();
  await expect(timeline(bob.page).getByRole('button', { name: 'Load older messages' })).toHaveCount(0);
  expect(await timelineLabels(bob.page)).toEqual(texts.map((t) => `carol: ${t}`));
  await bob.context.close();
});
