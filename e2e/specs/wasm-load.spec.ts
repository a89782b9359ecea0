// The client core's WebAssembly cannot load: a 404 for the .wasm, or a
// Content-Security-Policy without 'wasm-unsafe-eval'. The demo says so (the
// connection pill reads "Unavailable" and an alert explains) instead of
// "Starting…" forever; "Try again" loads it again.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';

import { connectionBanner, expectConnected, shot } from '../support/chat';

/** Signs in without waiting for a connection; counts the page's WebSockets. */
async function signInUnconnected(browser: Browser, name: string, setup: (c: BrowserContext) => Promise<void>) {
  const context = await browser.newContext();
  await setup(context);
  const page = await context.newPage();
  const sockets = { count: 0 };
  page.on('websocket', () => sockets.count++);
  await page.goto('/');
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Join chat' }).click();
  return { context, page, sockets };
}

function pill(page: Page) {
  return page.getByRole('status', { name: 'Connection status' });
}

test('a 404 for parley-core.wasm ends in a visible error; Try again loads it once it is there', async ({ browser }) => {
  let missing = true;
  const { context, page, sockets } = await signInUnconnected(browser, 'wasm-404', async (c) => {
    await c.route(/\.wasm(\?.*)?$/, (route) =>
      missing
        ? route.fulfill({ status: 404, contentType: 'text/html', body: '<!DOCTYPE html><h1>404: not found</h1>' })
        : route.continue(),
    );
  });
  await expect(pill(page)).toHaveText('Unavailable');
  const banner = connectionBanner(page);
  await expect(banner.getByRole('alert')).toContainText('Chat could not start');
  await expect(banner).toContainText('HTTP 404');
  expect(sockets.count).toBe(0);
  await shot(page, 'wasm-load-404');

  missing = false;
  await banner.getByRole('button', { name: 'Try again' }).click();
  await expectConnected(page);
  await expect(banner).toBeHidden();
  await context.close();
});

test("a CSP without 'wasm-unsafe-eval' ends in a visible error; the demo's own CSP allows it", async ({ browser }) => {
  // The demo's production build sends the CSP docs/client.md names.
  const own = (await fetch(`${test.info().project.use.baseURL}/`)).headers.get('content-security-policy');
  expect(own).toContain("'wasm-unsafe-eval'");

  // The same policy without 'wasm-unsafe-eval': Chromium refuses to compile the module.
  const strict = own!.replace(" 'wasm-unsafe-eval'", '');
  const { context, page, sockets } = await signInUnconnected(browser, 'wasm-csp', async (c) => {
    await c.route(
      (url) => url.pathname === '/',
      async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': strict } });
      },
    );
  });
  await expect(pill(page)).toHaveText('Unavailable');
  const banner = connectionBanner(page);
  await expect(banner.getByRole('alert')).toContainText('Chat could not start');
  await expect(banner).toContainText(/Content Security Policy|unsafe-eval/);
  expect(sockets.count).toBe(0);
  await shot(page, 'wasm-load-csp');
  await context.close();
});
