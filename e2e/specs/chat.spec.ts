// Two people chat through parleyd and the WebAssembly client: both ways, and
// a burst of 50 messages arrives complete and in the same order on both sides.
import { expect, test, type BrowserContext } from '@playwright/test';

import {
  expectConnected,
  expectStatus,
  member,
  members,
  message,
  openRoom,
  say,
  shot,
  signIn,
  timeline,
  timelineLabels,
  uniqueRoom,
  unsettled,
} from '../support/chat';

test('the sign-in page asks for a display name', async ({ browser }) => {
  for (const [name, viewport] of [
    ['signin', { width: 1280, height: 760 }],
    ['signin-phone', { width: 390, height: 844 }],
  ] as const) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Join the conversation');
    const join = page.getByRole('button', { name: 'Join chat' });
    await expect(join).toBeDisabled();
    await page.getByLabel('Display name').fill('   ');
    await expect(join).toBeDisabled(); // blanks are not a name
    await page.getByLabel('Display name').fill('erin');
    await expect(join).toBeEnabled();
    await shot(page, name);
    await join.click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('#lobby');
    await context.close();
  }
});

test('alice and bob chat both ways in the lobby', async ({ browser }) => {
  // Any error in the browser console (a failed hydration, an exception) fails the test.
  const problems: string[] = [];
  const watch = async (context: BrowserContext) => {
    context.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    context.on('weberror', (e) => problems.push(String(e.error())));
  };
  const alice = await signIn(browser, 'alice', { setup: watch });
  const bob = await signIn(browser, 'bob', { setup: watch });
  await expect(alice.page).toHaveTitle('#lobby · Parley');
  for (const u of [alice, bob]) {
    await expect(u.page.getByRole('heading', { level: 1 })).toHaveText('#lobby');
  }

  await say(alice.page, 'hello bob');
  const atBob = message(bob.page, 'alice', 'hello bob');
  await expect(atBob).toBeVisible();
  await expect(atBob.getByText('alice', { exact: true })).toBeVisible(); // the sender's name over it
  await expect(atBob.locator('time')).toHaveText(/\d{1,2}:\d{2}/);

  await say(bob.page, 'hi alice');
  await expect(message(alice.page, 'bob', 'hi alice')).toBeVisible();

  // Alice's own message is confirmed by the server (then delivered and seen).
  await expectStatus(message(alice.page, 'alice', 'hello bob'), /^(Sent|Delivered|Seen by bob)$/);
  // Each message exactly once on each side.
  for (const u of [alice, bob]) {
    await expect(message(u.page, 'alice', 'hello bob')).toHaveCount(1);
    await expect(message(u.page, 'bob', 'hi alice')).toHaveCount(1);
  }

  await shot(alice.page, 'chat-alice');
  await shot(bob.page, 'chat-bob');
  expect(problems).toEqual([]);
  await alice.context.close();
  await bob.context.close();
});

test('50 rapid messages arrive in the same order on both sides', async ({ browser }) => {
  test.setTimeout(120_000);
  const room = uniqueRoom('burst');
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  // Alice types as fast as Playwright can; bob answers in the middle.
  const sent: string[] = [];
  for (let i = 1; i <= 50; i++) {
    const text = `burst ${String(i).padStart(2, '0')}`;
    await say(alice.page, text);
    sent.push(`alice: ${text}`);
    if (i === 25) {
      await say(bob.page, 'halfway there');
    }
  }

  const last = 'alice: burst 50';
  for (const u of [alice, bob]) {
    await expect(timeline(u.page).getByRole('listitem', { name: last, exact: true })).toBeVisible({ timeout: 30_000 });
  }
  // All of alice's are confirmed by the server, none waits or failed.
  await expect(unsettled(alice.page)).toHaveCount(0, {
    timeout: 30_000,
  });

  const atAlice = await timelineLabels(alice.page);
  const atBob = await timelineLabels(bob.page);
  // Both sides show the same timeline (server order), with each message once.
  expect(atBob).toEqual(atAlice);
  expect(atAlice).toHaveLength(51);
  // Alice's 50 are in the order she sent them.
  expect(atAlice.filter((l) => l.startsWith('alice: '))).toEqual(sent);
  expect(atAlice.filter((l) => l === 'bob: halfway there')).toHaveLength(1);
  // The seq numbers are gap-free and ascending on both sides.
  for (const u of [alice, bob]) {
    const seqs = await timeline(u.page)
      .getByRole('listitem')
      .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  }

  await shot(alice.page, 'chat-burst-alice');
  await shot(bob.page, 'chat-burst-bob');
  await alice.context.close();
  await bob.context.close();
});

test('a direct message starts from a member and reaches only the two of them', async ({ browser }) => {
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');
  const carol = await signIn(browser, 'carol');

  await member(alice.page, 'bob').getByRole('button', { name: 'Message bob' }).click();
  await expect(alice.page.getByRole('heading', { level: 1 })).toHaveText('bob');
  expect(new URL(alice.page.url()).hash).toBe('#dm:alice:bob');
  const aliceNav = alice.page.getByRole('navigation', { name: 'Rooms' });
  await expect(aliceNav.getByRole('link', { name: 'bob' })).toHaveAttribute('aria-current', 'page');
  await say(alice.page, 'psst, bob');
  await expectStatus(message(alice.page, 'alice', 'psst, bob'), /^(Sent|Delivered|Seen by bob)$/);

  await member(bob.page, 'alice').getByRole('button', { name: 'Message alice' }).click();
  await expect(bob.page.getByRole('heading', { level: 1 })).toHaveText('alice');
  expect(new URL(bob.page.url()).hash).toBe('#dm:alice:bob');
  await expect(message(bob.page, 'alice', 'psst, bob')).toBeVisible();
  await say(bob.page, 'hey alice');
  await expect(message(alice.page, 'bob', 'hey alice')).toBeVisible();
  await expectStatus(message(alice.page, 'alice', 'psst, bob'), 'Seen by bob');
  await expect(members(alice.page).getByRole('listitem')).toHaveCount(2);

  // Carol cannot open their room: the server refuses her.
  await carol.page.goto('/#dm:alice:bob');
  await expect(carol.page.getByRole('heading', { level: 1 })).toHaveText('dm:alice:bob');
  await expect(timeline(carol.page).getByRole('alert')).toContainText('this direct room is not yours');
  await expect(message(carol.page, 'alice', 'psst, bob')).toHaveCount(0);

  await shot(alice.page, 'chat-direct-alice');
  for (const u of [alice, bob, carol]) await u.context.close();
});

test('the layout adapts to a phone', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Display name').fill('dora');
  await page.getByRole('button', { name: 'Join chat' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('#lobby');
  await expect(page.getByRole('navigation', { name: 'Rooms' })).toBeHidden();
  await expect(members(page)).toBeHidden();
  await say(page, 'hello from my phone');
  await expectStatus(message(page, 'dora', 'hello from my phone'), /^(Sent|Delivered|Seen by .+)$/);
  await shot(page, 'mobile-room');

  await page.getByRole('button', { name: 'Open rooms' }).click();
  await expect(page.getByRole('navigation', { name: 'Rooms' })).toBeVisible();
  await expectConnected(page);
  await shot(page, 'mobile-rooms-drawer');
  const room = uniqueRoom('phone');
  await openRoom(page, room);
  await expect(page.getByRole('navigation', { name: 'Rooms' })).toBeHidden();

  // The members drawer: a close button (which gets the focus), and Escape.
  const showMembers = page.getByRole('button', { name: 'Show members' });
  await showMembers.click();
  await expect(member(page, 'dora')).toBeVisible();
  const close = page.getByRole('button', { name: 'Close members' });
  await expect(close).toBeFocused();
  await shot(page, 'mobile-members');
  await close.click();
  await expect(members(page)).toBeHidden();
  await expect(showMembers).toBeFocused();
  await expect(showMembers).toHaveAttribute('aria-expanded', 'false');
  await showMembers.click();
  await expect(member(page, 'dora')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(members(page)).toBeHidden();

  // The rooms drawer closes with Escape too.
  await page.getByRole('button', { name: 'Open rooms' }).click();
  await expect(page.getByRole('navigation', { name: 'Rooms' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('navigation', { name: 'Rooms' })).toBeHidden();
  await context.close();
});
