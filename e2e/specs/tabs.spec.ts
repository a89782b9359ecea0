// One user, two tabs (one browser profile, so one IndexedDB): both queue
// messages while offline and are closed, in either order. Each tab keeps its
// own queue; a tab that is still open, or one opened later, adopts the queue
// of a tab that is gone. Every message is delivered exactly once.
import { expect, test, type Page } from '@playwright/test';

import {
  expectConnected,
  expectStatus,
  message,
  openRoom,
  say,
  shot,
  signIn,
  timelineLabels,
  uniqueRoom,
  type User,
} from '../support/chat';

const CONFIRMED = /^(Sent|Delivered|Seen by bob)$/;

/** A second tab of the signed-in user, in `room`. */
async function secondTab(user: User, room: string): Promise<Page> {
  const page = await user.context.newPage();
  await page.goto(`/#${room}`);
  await expectConnected(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`#${room}`);
  return page;
}

/** Both tabs offline, each with two queued messages; returns the texts by tab. */
async function queueInBothTabsOffline(alice: User, tabs: Page[]): Promise<string[][]> {
  await alice.context.setOffline(true);
  for (const tab of tabs) await expect(tab.getByRole('status', { name: 'Connection status' })).toHaveText('Offline');
  const texts = tabs.map((_, i) => [`tab ${i + 1} first`, `tab ${i + 1} second`]);
  for (let i = 0; i < tabs.length; i++) {
    for (const t of texts[i]) await say(tabs[i], t);
  }
  for (let i = 0; i < tabs.length; i++) {
    for (const t of texts[i]) await expectStatus(message(tabs[i], 'alice', t), 'Queued');
  }
  return texts;
}

/** Bob sees each of `texts` exactly once (after his own later sentinel), each tab's in its order. */
async function expectEachOnce(bob: Page, alice: Page, texts: string[][], sentinel: string): Promise<void> {
  for (const t of texts.flat()) await expect(message(bob, 'alice', t)).toBeVisible({ timeout: 15_000 });
  for (const t of texts.flat()) await expectStatus(message(alice, 'alice', t), CONFIRMED);
  await say(bob, sentinel);
  for (const page of [bob, alice]) {
    await expect(message(page, 'bob', sentinel)).toBeVisible();
    const labels = await timelineLabels(page);
    for (const t of texts.flat()) expect(labels.filter((l) => l === `alice: ${t}`)).toHaveLength(1);
    for (const tab of texts) {
      expect(labels.indexOf(`alice: ${tab[0]}`)).toBeLessThan(labels.indexOf(`alice: ${tab[1]}`));
    }
    expect(labels.at(-1)).toBe(`bob: ${sentinel}`);
  }
}

for (const closeFirst of [0, 1]) {
  test(`two tabs queue offline and are closed (tab ${closeFirst + 1} first); a later tab sends every message once`, async ({
    browser,
  }) => {
    test.setTimeout(90_000);
    const room = uniqueRoom('tabs');
    const bob = await signIn(browser, 'bob');
    await openRoom(bob.page, room);
    const alice = await signIn(browser, 'alice');
    await openRoom(alice.page, room);
    const tabs = [alice.page, await secondTab(alice, room)];
    const texts = await queueInBothTabsOffline(alice, tabs);

    // The first tab closes; the other, still open (and offline), adopts its
    // queue: the messages show there, queued.
    const [first, last] = closeFirst === 0 ? [0, 1] : [1, 0];
    await tabs[first].close();
    for (const t of texts[first]) await expectStatus(message(tabs[last], 'alice', t), 'Queued');
    await shot(tabs[last], `tabs-adopted-close-${first + 1}-first`);
    await tabs[last].close();

    // Later, online again: a new tab of the same profile sends them all.
    await alice.context.setOffline(false);
    const later = await secondTab(alice, room);
    await expectEachOnce(bob.page, later, texts, `bob saw all four (tab ${first + 1} closed first)`);
    await shot(later, `tabs-later-tab-sent-all-close-${first + 1}-first`);
    await alice.context.close();
    await bob.context.close();
  });
}

test('a tab that stays open sends the queue of the closed one when the network is back', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('tabs-survivor');
  const bob = await signIn(browser, 'bob');
  await openRoom(bob.page, room);
  const alice = await signIn(browser, 'alice');
  await openRoom(alice.page, room);
  const tabs = [alice.page, await secondTab(alice, room)];
  const texts = await queueInBothTabsOffline(alice, tabs);
  await tabs[0].close();
  for (const t of texts[0]) await expectStatus(message(tabs[1], 'alice', t), 'Queued');
  await alice.context.setOffline(false);
  await expectConnected(tabs[1], 15_000);
  await expectEachOnce(bob.page, tabs[1], texts, 'bob saw all four (survivor)');
  await alice.context.close();
  await bob.context.close();
});

test('signing out deletes what the device stored: the queue is gone, nothing is sent later', async ({ browser }) => {
  test.setTimeout(90_000);
  const room = uniqueRoom('signout');
  const bob = await signIn(browser, 'bob');
  await openRoom(bob.page, room);
  const alice = await signIn(browser, 'alice');
  await openRoom(alice.page, room);
  const other = await secondTab(alice, room);
  await alice.context.setOffline(true);
  await say(alice.page, 'never to be sent');
  await say(other, 'never to be sent either');
  await expectStatus(message(alice.page, 'alice', 'never to be sent'), 'Queued');
  await expectStatus(message(other, 'alice', 'never to be sent either'), 'Queued');
  const stored = () =>
    alice.page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name ?? ''),
      keys: Object.keys(localStorage),
    }));
  const before = await stored();
  expect(before.databases.some((d) => d.startsWith('parley:alice@'))).toBe(true);
  expect(before.keys).toContain('parley-demo:rooms:alice');

  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  await expect(alice.page.getByLabel('Display name')).toBeVisible();
  // The other tab follows (the session is shared) and stops.
  await expect(other.getByLabel('Display name')).toBeVisible();
  const after = await stored();
  expect(after.databases.filter((d) => d.startsWith('parley:'))).toEqual([]);
  expect(after.keys.filter((k) => k.startsWith('parley-demo:'))).toEqual([]);

  // Back online and signed in again as alice: nothing was kept, nothing goes out.
  await alice.context.setOffline(false);
  await alice.page.getByLabel('Display name').fill('alice');
  await alice.page.getByRole('button', { name: 'Join chat' }).click();
  await expectConnected(alice.page);
  await openRoom(alice.page, room);
  await say(bob.page, 'sentinel after sign-out');
  for (const page of [alice.page, bob.page]) {
    await expect(message(page, 'bob', 'sentinel after sign-out')).toBeVisible();
    expect(await timelineLabels(page)).toEqual(['bob: sentinel after sign-out']);
  }
  await shot(alice.page, 'signout-nothing-kept');
  await alice.context.close();
  await bob.context.close();
});
