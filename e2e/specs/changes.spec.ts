// Issue 16 in the browser: edits, deletes and reactions made while one user
// is offline converge on both pages once she is back; an image uploaded on
// one page shows on the other at its final size (and one attached offline
// waits with its message); a reply jumps to an original that is not loaded.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  composer,
  connectionBanner,
  expectConnected,
  expectStatus,
  message,
  openRoom,
  say,
  shot,
  signIn,
  timeline,
  uniqueRoom,
} from '../support/chat';
import { gradientPng } from '../support/images';
import { ownStack, runProtocolClient } from '../support/servers';

async function act(item: Locator, action: 'Reply' | 'Edit' | 'Delete'): Promise<void> {
  await item.hover();
  await item.getByRole('toolbar').getByRole('button', { name: action, exact: true }).click();
}

async function edit(page: Page, item: Locator, text: string): Promise<void> {
  await act(item, 'Edit');
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

async function remove(item: Locator): Promise<void> {
  await act(item, 'Delete');
  await item.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
}

async function react(page: Page, item: Locator, emoji: string): Promise<void> {
  await item.hover();
  await item.getByRole('button', { name: 'Add reaction' }).click();
  await page.getByRole('menuitem', { name: `React with ${emoji}` }).click();
}

/** The open room as a reader sees it: each line's label and its reactions ("🎉1"), in order. */
async function shown(page: Page): Promise<string[]> {
  return timeline(page)
    .locator('ol.messages > li.message')
    .evaluateAll((items) =>
      items.map((li) => {
        const chips = [...li.querySelectorAll('.reaction')].map(
          (r) => `${r.querySelector('.emoji')?.textContent}${r.querySelector('.count')?.textContent}`,
        );
        return [li.getAttribute('aria-label'), ...chips].join(' ');
      }),
    );
}

test('edits, deletes and reactions made while one user is offline converge on both pages', async ({ browser }) => {
  const room = uniqueRoom('changes');
  const alice = await signIn(browser, 'alice'); // opens the room first: its owner
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  for (const t of ['one', 'two', 'three']) await say(alice.page, t);
  await say(bob.page, 'bob one');
  await expect(message(alice.page, 'bob', 'bob one')).toBeVisible();
  await react(bob.page, message(bob.page, 'alice', 'one'), '👍');
  await expect(message(alice.page, 'alice', 'one').getByRole('button', { name: /^👍 1/ })).toBeVisible();

  await alice.context.setOffline(true);
  await expect(connectionBanner(alice.page)).toBeVisible();
  // Alice, offline: each change shows at once on her page only.
  await edit(alice.page, message(alice.page, 'alice', 'one'), 'one, edited');
  await remove(message(alice.page, 'alice', 'two'));
  await react(alice.page, message(alice.page, 'bob', 'bob one'), '🎉');
  await say(alice.page, 'four');
  await expectStatus(message(alice.page, 'alice', 'four'), 'Queued');
  await edit(alice.page, message(alice.page, 'alice', 'four'), 'four, fixed');
  await expectStatus(message(alice.page, 'alice', 'four, fixed'), 'Queued');
  await expect(message(alice.page, 'alice', 'one, edited')).toBeVisible();
  await expect(message(alice.page, 'alice', 'This message was deleted')).toBeVisible();
  // Bob, online meanwhile.
  await edit(bob.page, message(bob.page, 'bob', 'bob one'), 'bob one, edited');
  await react(bob.page, message(bob.page, 'alice', 'three'), '❤️');
  await expect(message(bob.page, 'alice', 'one')).toBeVisible();
  await expect(message(bob.page, 'alice', 'four, fixed')).toHaveCount(0);
  await shot(alice.page, 'changes-alice-offline');

  await alice.context.setOffline(false);
  await expectConnected(alice.page, 10_000);
  const expected = [
    'alice: one, edited 👍1',
    'alice: This message was deleted',
    'alice: three ❤️1',
    'bob: bob one, edited 🎉1',
    'alice: four, fixed',
  ];
  await expect.poll(() => shown(alice.page), { timeout: 10_000 }).toEqual(expected);
  await expect.poll(() => shown(bob.page), { timeout: 10_000 }).toEqual(expected);
  // The queued send went out once, already edited: no separate edit of it.
  await expectStatus(message(alice.page, 'alice', 'four, fixed'), /^(Sent|Delivered|Seen by bob)$/);
  await expect(message(alice.page, 'alice', 'one, edited').getByText('(edited)')).toBeVisible();
  await shot(alice.page, 'changes-alice-converged');
  await shot(bob.page, 'changes-bob-converged');

  // A reload shows the same, from the server alone.
  await bob.page.reload();
  await expect.poll(() => shown(bob.page), { timeout: 10_000 }).toEqual(expected);
});

test('an image uploaded on one page shows on the other at its final size, and an offline one waits', async ({
  browser,
}) => {
  const room = uniqueRoom('images');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  const file = join(tmpdir(), `parley-e2e-gradient-${Date.now()}.png`);
  writeFileSync(file, gradientPng(480, 300));

  await alice.page.getByLabel('File to attach').setInputFiles(file);
  const image = message(bob.page, 'alice', file.split('/').pop()!);
  await expect(image).toBeVisible();
  // The box is reserved at the shown size (480 x 300 scaled to 360 wide) before the picture arrives.
  const box = image.locator('.image-attachment');
  await expect(box).toHaveAttribute('data-width', '360');
  await expect(box).toHaveAttribute('data-height', '225');
  const img = image.getByRole('img');
  await expect(img).toBeVisible();
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(480);
  expect((await box.boundingBox())?.width).toBeCloseTo(360, 0);

  // Offline: the picture shows at once from the page's own copy, queued with its message.
  await alice.context.setOffline(true);
  await expect(connectionBanner(alice.page)).toBeVisible();
  const offlineFile = join(tmpdir(), `parley-e2e-offline-${Date.now()}.png`);
  writeFileSync(offlineFile, gradientPng(200, 400));
  await alice.page.getByLabel('File to attach').setInputFiles(offlineFile);
  const waiting = message(alice.page, 'alice', offlineFile.split('/').pop()!);
  await expectStatus(waiting, 'Queued');
  await expect(waiting.getByRole('img')).toBeVisible();
  await expect(message(bob.page, 'alice', offlineFile.split('/').pop()!)).toHaveCount(0);
  await shot(alice.page, 'images-offline-queued');
  await alice.context.setOffline(false);
  const arrived = message(bob.page, 'alice', offlineFile.split('/').pop()!);
  await expect(arrived.getByRole('img')).toBeVisible({ timeout: 15_000 });
  await expect(arrived.locator('.image-attachment')).toHaveAttribute('data-height', '320');
  await expect(arrived.getByRole('img')).toHaveAttribute('src', /^\/api\/uploads\/[0-9a-f]{24}\.png$/);
  await shot(bob.page, 'images-bob');
});

test.describe('replies', () => {
  const stack = ownStack(['--rate-messages', '1000/1000', '--user-rate-messages', '1000/1000']);

  test('a reply jumps to an original that is not loaded yet', async ({ browser }) => {
    const room = uniqueRoom('replies');
    const alice = await signIn(browser, 'alice', { baseURL: stack.demo.url });
    await openRoom(alice.page, room);
    await say(alice.page, 'the original question');
    const original = message(alice.page, 'alice', 'the original question');
    await expectStatus(original, /^Sent|Delivered$/);
    await act(original, 'Reply');
    await expect(alice.page.getByRole('status').filter({ hasText: 'Replying to alice' })).toBeVisible();
    // Much is said before the answer: the original falls two pages back.
    const fillers = Array.from({ length: 110 }, (_, i) => `filler ${i + 1}`);
    await runProtocolClient({
      url: stack.parleyd.wsUrl,
      userId: 'carol',
      name: 'carol',
      roomId: room,
      messages: fillers,
    });
    await expect(message(alice.page, 'carol', 'filler 110')).toBeVisible();
    await composer(alice.page).fill('the answer, at last');
    await composer(alice.page).press('Enter');

    const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
    await openRoom(bob.page, room);
    const reply = message(bob.page, 'alice', 'the answer, at last');
    await expect(reply).toBeVisible();
    await expect(message(bob.page, 'alice', 'the original question')).toHaveCount(0);
    const quote = reply.getByRole('button', { name: 'Reply to alice: the original question' });
    await expect(quote).toBeVisible();
    await quote.click();
    const found = message(bob.page, 'alice', 'the original question');
    await expect(found).toBeInViewport({ timeout: 15_000 });
    await expect(found).toHaveClass(/flash/);
    await shot(bob.page, 'replies-jumped-to-original');

    // Deleted, the original is quoted as such.
    await remove(message(alice.page, 'alice', 'the original question'));
    await expect(reply.getByRole('button', { name: 'Reply to alice: deleted message' })).toBeVisible();
  });
});
