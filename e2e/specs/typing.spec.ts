// Typing indicators: shown to the other side within a second, gone when the
// message lands, and gone by themselves after the server's ttl.
// The shared parleyd runs with --typing-ttl-ms 1500; the client stops its own
// indicator only 3 s after the last keystroke, so a disappearance at ~1.5 s
// is the ttl at work.
import { expect, test, type Page } from '@playwright/test';

import { composer, message, openRoom, shot, signIn, typingLine, uniqueRoom } from '../support/chat';
import { SHARED_TYPING_TTL_MS as TTL } from '../support/env';

declare global {
  interface Window {
    typingChanges?: { t: number; text: string }[];
  }
}

/** Records every change of the page's typing line with its time (ms since the epoch). */
async function recordTyping(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.querySelector('[role="status"][aria-label="Typing"]')!;
    const log: { t: number; text: string }[] = [];
    window.typingChanges = log;
    new MutationObserver(() => log.push({ t: Date.now(), text: el.textContent ?? '' })).observe(el, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
}

async function typingChanges(page: Page): Promise<{ t: number; text: string }[]> {
  return page.evaluate(() => window.typingChanges ?? []);
}

test('typing shows within 1 s, goes away when the message is sent, and expires after the ttl', async ({ browser }) => {
  const room = uniqueRoom('typing');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  const typing = typingLine(bob.page);
  await expect(typing).toHaveText('');
  await recordTyping(bob.page);

  // 1. Alice types: bob sees it within a second.
  let started = Date.now();
  await composer(alice.page).fill('hello bob');
  await expect(typing).toHaveText('alice is typing…', { timeout: 1000 });
  let changes = await typingChanges(bob.page);
  const shown = changes.find((c) => c.text === 'alice is typing…')!;
  expect(shown.t - started).toBeLessThan(1000);
  await shot(bob.page, 'typing-bob-sees-alice');

  // 2. She sends: the indicator goes with the message, not after the ttl.
  await composer(alice.page).press('Enter');
  await expect(message(bob.page, 'alice', 'hello bob')).toBeVisible();
  await expect(typing).toHaveText('', { timeout: 500 });
  changes = await typingChanges(bob.page);
  const cleared = changes.find((c) => c.t >= shown.t && c.text === '')!;
  expect(cleared.t - shown.t).toBeLessThan(TTL - 300);

  // 3. One keystroke and nothing more: the indicator expires after the ttl.
  await bob.page.evaluate(() => window.typingChanges!.splice(0));
  started = Date.now();
  await composer(alice.page).pressSequentially('s');
  await expect(typing).toHaveText('alice is typing…', { timeout: 1000 });
  await expect(typing).toHaveText('', { timeout: TTL + 1500 });
  changes = await typingChanges(bob.page);
  const on = changes.find((c) => c.text === 'alice is typing…')!;
  const off = changes.find((c) => c.t >= on.t && c.text === '')!;
  expect(on.t - started).toBeLessThan(1000);
  // Not before the ttl, and well before alice's client would have stopped it (3 s).
  expect(off.t - on.t).toBeGreaterThanOrEqual(TTL - 150);
  expect(off.t - on.t).toBeLessThan(TTL + 800);

  await alice.context.close();
  await bob.context.close();
});
