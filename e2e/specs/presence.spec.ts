// Presence: bob sees alice online; a reload does not flap her offline; when
// she closes her tab she turns offline within the documented bound.
//
// The bound (docs/server.md): a user is `offline` once their last connection
// has been gone for --offline-grace-ms; parleyd checks presence every
// grace/4 (at most every second), so the change is broadcast between
// 1 × grace and 1.25 × grace after the tab closed, plus delivery. The shared
// parleyd runs with --offline-grace-ms 1500: offline between 1.5 s and
// 1.875 s; we allow 0.5 s more for delivery and rendering.
import { expect, test } from '@playwright/test';

import {
  expectConnected,
  expectPresence,
  member,
  openRoom,
  presenceOf,
  shot,
  signIn,
  uniqueRoom,
} from '../support/chat';
import { SHARED_OFFLINE_GRACE_MS as GRACE } from '../support/env';

const BOUND_MS = GRACE * 1.25 + 500;

test('bob sees alice online, then offline within the grace bound after she closes her tab', async ({ browser }) => {
  const room = uniqueRoom('presence');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  const aliceAtBob = member(bob.page, 'alice');
  await expectPresence(aliceAtBob, 'Online');
  await expectPresence(member(alice.page, 'bob'), 'Online');

  // A reload is a quick reconnect: bob never sees her offline.
  await aliceAtBob.evaluate((li) => {
    const presence = document.getElementById(li.getAttribute('aria-describedby')!)!;
    (window as unknown as { flapped: boolean }).flapped = false;
    new MutationObserver(() => {
      if (presence.textContent?.startsWith('Offline')) (window as unknown as { flapped: boolean }).flapped = true;
    }).observe(presence, { subtree: true, childList: true, characterData: true });
  });
  await alice.page.reload();
  await expectConnected(alice.page);
  await expect(alice.page.getByRole('heading', { level: 1 })).toHaveText(`#${room}`);
  await expectPresence(member(alice.page, 'alice'), 'Online');
  await expectPresence(aliceAtBob, 'Online');
  expect(await bob.page.evaluate(() => (window as unknown as { flapped: boolean }).flapped)).toBe(false);
  await shot(bob.page, 'presence-bob-sees-alice-online');

  // She closes the tab (her only one): offline after the grace, not before.
  const closedAt = Date.now();
  await alice.context.close();
  await expect.poll(() => presenceOf(aliceAtBob), { intervals: [50], timeout: BOUND_MS + 2000 }).toMatch(/^Offline/);
  const elapsed = Date.now() - closedAt;
  expect(elapsed).toBeGreaterThanOrEqual(GRACE - 100);
  expect(elapsed).toBeLessThanOrEqual(BOUND_MS);
  await expectPresence(aliceAtBob, 'Offline · last seen just now');
  await shot(bob.page, 'presence-bob-sees-alice-offline');
  await bob.context.close();
});
