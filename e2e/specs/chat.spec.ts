// Two people chat in the lobby through parleyd and the WebAssembly client.
import { expect, test, type Browser, type Page } from '@playwright/test';

async function signIn(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Join chat' }).click();
  await expect(page.getByRole('status', { name: 'Connection' })).toHaveText('Connected');
  return page;
}

async function say(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test('alice and bob chat in the lobby', async ({ browser }) => {
  const alice = await signIn(browser, 'alice');
  const bob = await signIn(browser, 'bob');

  await say(alice, 'hello bob');
  const atBob = bob.getByRole('log', { name: 'Messages' }).getByRole('listitem', { name: 'alice: hello bob' });
  await expect(atBob).toBeVisible();
  await expect(atBob.locator('.sender')).toHaveText('alice');

  await say(bob, 'hi alice');
  const atAlice = alice.getByRole('log', { name: 'Messages' }).getByRole('listitem', { name: 'bob: hi alice' });
  await expect(atAlice).toBeVisible();
  await expect(atAlice.locator('.sender')).toHaveText('bob');

  // Alice's own message is confirmed by the server.
  await expect(alice.getByRole('listitem', { name: 'alice: hello bob' }).locator('.status')).toHaveText('sent');

  await alice.screenshot({ path: 'e2e/artifacts/chat-alice.png' });
  await bob.screenshot({ path: 'e2e/artifacts/chat-bob.png' });
});
