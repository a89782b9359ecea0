// Refused messages: a too-long one fails with the reason and can be edited
// and sent again, retried, or discarded; a burst past the rate limit says so
// and still delivers everything exactly once, in order.
// These run against a parleyd of their own with --rate-messages 2/1 (two a
// second, a burst of one).
import { expect, test, type Browser } from '@playwright/test';
import { writeFileSync } from 'node:fs';

import {
  composer,
  expectStatus,
  message,
  openRoom,
  say,
  shot,
  signIn,
  timelineLabels,
  uniqueRoom,
  unsettled,
} from '../support/chat';
import { ownStack } from '../support/servers';

// A limit of its own, not the default 4 000: the demo must take it from the
// server's welcome.
const MAX = 3000;
const stack = ownStack(['--rate-messages', '2/1', '--max-content-length', String(MAX)]);

test('a too-long message fails with the reason; retry, edit and resend, or discard', async ({ browser }) => {
  const room = uniqueRoom('errors');
  const alice = await signIn(browser, 'alice', { baseURL: stack.demo.url });
  const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);

  // The counter warns before sending.
  const long = 'x'.repeat(MAX + 1);
  await composer(alice.page).fill(long);
  await expect(alice.page.getByText('3,001 / 3,000')).toBeVisible();
  await expect(alice.page.getByRole('alert').filter({ hasText: 'Too long by 1 character' })).toBeVisible();
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();

  const failed = message(alice.page, 'alice', long);
  await expectStatus(failed, 'Failed');
  await expect(failed.getByRole('alert')).toContainText('Too long — messages can be up to 3,000 characters');
  await expect(composer(alice.page)).toHaveValue('');
  await shot(alice.page, 'errors-too-long-failed');

  // Retry sends it as is: the server refuses it for the same reason.
  await failed.getByRole('button', { name: 'Retry' }).click();
  await expectStatus(failed, 'Failed');
  await expect(failed.getByRole('alert')).toContainText('Too long');

  // Edit: the text comes back into the composer, the failed one goes away.
  await failed.getByRole('button', { name: 'Edit' }).click();
  await expect(composer(alice.page)).toHaveValue(long);
  await expect(failed).toHaveCount(0);
  await composer(alice.page).press('End');
  await composer(alice.page).press('Backspace');
  await expect(alice.page.getByText('3,000 / 3,000')).toBeVisible();
  await composer(alice.page).press('Enter');
  const fixed = message(alice.page, 'alice', long.slice(0, MAX));
  await expectStatus(fixed, /^(Sent|Delivered|Seen by bob)$/);
  const atBob = message(bob.page, 'alice', long.slice(0, MAX));
  await expect(atBob).toHaveCount(1);
  // 3,000 characters are folded to a few lines: the room's header stays in view.
  const more = atBob.getByRole('button', { name: 'Show more' });
  await expect(more).toHaveAttribute('aria-expanded', 'false');
  await expect(bob.page.getByRole('heading', { level: 1 })).toBeInViewport();
  expect((await atBob.boundingBox())!.height).toBeLessThan(300);
  await shot(bob.page, 'errors-long-message-folded');
  await more.click();
  await expect(atBob.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
  expect((await atBob.boundingBox())!.height).toBeGreaterThan(500);
  await atBob.getByRole('button', { name: 'Show less' }).click();

  // Discard: gone for good, never reaches bob.
  const tooLong = 'y'.repeat(MAX + 200);
  await say(alice.page, tooLong);
  const second = message(alice.page, 'alice', tooLong);
  await expectStatus(second, 'Failed');
  await second.getByRole('button', { name: 'Discard' }).click();
  await expect(second).toHaveCount(0);
  await say(alice.page, 'after the discard');
  await expect(message(bob.page, 'alice', 'after the discard')).toBeVisible();
  expect(await timelineLabels(bob.page)).toEqual([`alice: ${long.slice(0, MAX)}`, 'alice: after the discard']);
  await shot(alice.page, 'errors-after-edit-and-discard');
  await alice.context.close();
  await bob.context.close();
});

/** Alice writes `count` messages as fast as she can (the limit is 2 per second, burst 1). */
async function burst(browser: Browser, room: string, count = 10) {
  // Alice's frames, attached to the report: what was refused, what was retried.
  const frames: string[] = [];
  const t0 = Date.now();
  const alice = await signIn(browser, 'alice', {
    baseURL: stack.demo.url,
    setup: async (context) => {
      context.on('page', (page) =>
        page.on('websocket', (ws) => {
          ws.on('framesent', (f) => frames.push(`${Date.now() - t0}ms > ${String(f.payload)}`));
          ws.on('framereceived', (f) => frames.push(`${Date.now() - t0}ms < ${String(f.payload)}`));
          ws.on('close', () => frames.push(`${Date.now() - t0}ms socket closed`));
        }),
      );
    },
  });
  const bob = await signIn(browser, 'bob', { baseURL: stack.demo.url });
  await openRoom(alice.page, room);
  await openRoom(bob.page, room);
  const logsFrom = stack.parleyd.logs.length;
  const closedBefore = await stack.parleyd.metric('parley_connections_closed_total');

  const texts = Array.from({ length: count }, (_, i) => `quick ${i + 1}`);
  for (const t of texts) {
    await composer(alice.page).fill(t);
    await composer(alice.page).press('Enter');
  }
  await expect(alice.page.getByRole('alert').filter({ hasText: 'You’re sending messages too fast' })).toBeVisible();
  await shot(alice.page, `errors-${room.split('-')[0]}`);
  for (const t of texts) await expect(message(bob.page, 'alice', t)).toBeVisible({ timeout: 20_000 });
  await expect(unsettled(alice.page)).toHaveCount(0, {
    timeout: 15_000,
  });
  const closedDuringBurst = (await stack.parleyd.metric('parley_connections_closed_total')) - closedBefore;

  const logsFile = test.info().outputPath('parleyd.log');
  writeFileSync(logsFile, stack.parleyd.logs.slice(logsFrom).join('\n'));
  await test.info().attach('parleyd.log', { path: logsFile, contentType: 'text/plain' });
  const framesFile = test.info().outputPath('alice-frames.txt');
  writeFileSync(framesFile, frames.filter((f) => !f.includes('"type":"typing"')).join('\n'));
  await test.info().attach('alice-frames.txt', { path: framesFile, contentType: 'text/plain' });
  return { alice, bob, texts, closedDuringBurst };
}

test('a burst past the rate limit shows the error and loses or duplicates nothing', async ({ browser }) => {
  const { alice, bob, texts } = await burst(browser, uniqueRoom('ratelimit'));
  const atBob = await timelineLabels(bob.page);
  const atAlice = await timelineLabels(alice.page);
  // Each message exactly once on each side, and both sides agree on the order.
  expect([...atBob].sort()).toEqual(texts.map((t) => `alice: ${t}`).sort());
  expect(atAlice).toEqual(atBob);
  // The notice goes away once everything went out.
  await expect(alice.page.getByRole('alert').filter({ hasText: 'You’re sending messages too fast' })).toBeHidden({
    timeout: 10_000,
  });
  await alice.context.close();
  await bob.context.close();
});

test('a burst past the rate limit does not get the connection closed for ignoring it', async ({ browser }) => {
  const { alice, bob, closedDuringBurst } = await burst(browser, uniqueRoom('ratelimitabuse'), 15);
  // parleyd closes a connection that keeps going after 30 rate_limited
  // answers within 10 s (1008, "rate limit ignored"). The client must wait as
  // told (retryAfterMs) instead of retrying every queued message on its own.
  expect(closedDuringBurst).toBe(0);
  await alice.context.close();
  await bob.context.close();
});

test('messages held back by the rate limit keep the order they were written in', async ({ browser }) => {
  const { alice, bob, texts } = await burst(browser, uniqueRoom('ratelimitorder'));
  // The client's outbox is ordered: a refused message must not be overtaken
  // by the ones written after it.
  expect(await timelineLabels(bob.page)).toEqual(texts.map((t) => `alice: ${t}`));
  await alice.context.close();
  await bob.context.close();
});
