// What a person does in the demo, as Playwright steps (roles and labels only).
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { resolve } from 'node:path';

import { ARTIFACTS } from './env';

export interface User {
  name: string;
  context: BrowserContext;
  page: Page;
}

/**
 * Opens a fresh browser profile and signs in with a display name. `baseURL`
 * picks another demo than the shared one; `setup` runs before the page loads
 * (e.g. to route its WebSockets).
 */
export async function signIn(
  browser: Browser,
  name: string,
  options: { baseURL?: string; setup?: (context: BrowserContext) => Promise<void> } = {},
): Promise<User> {
  const context = await browser.newContext(options.baseURL ? { baseURL: options.baseURL } : {});
  await options.setup?.(context);
  const page = await context.newPage();
  await page.goto('/');
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Join chat' }).click();
  await expectConnected(page);
  return { name, context, page };
}

export async function expectConnected(page: Page, timeout?: number): Promise<void> {
  await expect(page.getByRole('status', { name: 'Connection status' })).toHaveText('Connected', { timeout });
}

/** A room name of the test's own, so tests sharing a server never meet. */
export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Joins (or creates) a public room with the sidebar form and waits until it is shown. */
export async function openRoom(page: Page, room: string): Promise<void> {
  await page.getByLabel('Join or create a room').fill(room);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`#${room}`);
  await expect(page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: room })).toHaveAttribute(
    'aria-current',
    'page',
  );
  // Joined: the timeline is no longer busy.
  await expect(timeline(page)).toHaveAttribute('aria-busy', 'false');
}

export function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message' });
}

export async function say(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

export function timeline(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

/** The message `sender: text` in the open room's timeline. */
export function message(page: Page, sender: string, text: string): Locator {
  return timeline(page).getByRole('listitem', { name: `${sender}: ${text}`, exact: true });
}

/**
 * Expects the status of one of my messages: Queued, Sending…, Sent, Delivered,
 * Seen by …, Failed. It is the message's accessible description (what a
 * screen reader says after the message).
 */
export async function expectStatus(
  item: Locator,
  status: string | RegExp,
  options?: { timeout?: number },
): Promise<void> {
  await expect(item).toHaveAccessibleDescription(status, options);
}

/** The statuses that still wait or failed, shown in words in the open room's timeline. */
export function unsettled(page: Page): Locator {
  return timeline(page).getByText(/^(Queued|Sending…|Failed)/);
}

/** "sender: text" of every message in the open room's timeline, in order. */
export async function timelineLabels(page: Page): Promise<string[]> {
  return timeline(page)
    .getByRole('listitem')
    .evaluateAll((items) => items.map((li) => li.getAttribute('aria-label') ?? ''));
}

export function members(page: Page): Locator {
  return page.getByRole('list', { name: 'Members' });
}

export function member(page: Page, name: string): Locator {
  return members(page).getByRole('listitem', { name, exact: true });
}

/** A member's presence now ("Online", "Offline · last seen …"): the row's accessible description. */
export async function presenceOf(row: Locator): Promise<string> {
  return row.evaluate((li) => document.getElementById(li.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
}

/** Expects a member's presence ("Online", "Offline · last seen …"), the row's accessible description. */
export async function expectPresence(
  row: Locator,
  presence: string | RegExp,
  options?: { timeout?: number },
): Promise<void> {
  await expect(row).toHaveAccessibleDescription(presence, options);
}

/** What a page's live status regions said over time (see recordStatuses). */
export interface StatusesSeen {
  /** The connection status ("Connected", "Reconnecting…", ...), in order. */
  connection: string[];
  /** The status of each of my messages ("Queued", "Sending…", "Sent", ...), in order, by "sender: text". */
  messages: Record<string, string[]>;
}

/**
 * From now on, keeps every text the connection status and my messages'
 * statuses show, in order, repeats folded: what a screen reader hears from
 * them. For changes too brief to be sure to catch with `expect` (a
 * reconnection within a fraction of a second, a message queued meanwhile).
 */
export async function recordStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: StatusesSeen = { connection: [], messages: {} };
    (window as unknown as { statusesSeen: StatusesSeen }).statusesSeen = seen;
    const add = (list: string[], text: string) => {
      if (list.at(-1) !== text) list.push(text);
    };
    const read = () => {
      add(
        seen.connection,
        document.querySelector('[role="status"][aria-label="Connection status"]')?.textContent ?? '',
      );
      for (const li of document.querySelectorAll('[role="log"][aria-label="Messages"] li[aria-describedby]')) {
        const label = li.getAttribute('aria-label') ?? '';
        const status = document.getElementById(li.getAttribute('aria-describedby') ?? '')?.textContent ?? '';
        add((seen.messages[label] ??= []), status);
      }
    };
    read();
    new MutationObserver(read).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
}

/** What the page's statuses showed since recordStatuses. */
export async function statusesSeen(page: Page): Promise<StatusesSeen> {
  return page.evaluate(() => (window as unknown as { statusesSeen: StatusesSeen }).statusesSeen);
}

export function connectionBanner(page: Page): Locator {
  return page.getByRole('region', { name: 'Connection problem' });
}

export function typingLine(page: Page): Locator {
  return page.getByRole('status', { name: 'Typing' });
}

/** Saves a screenshot of the page under e2e/artifacts/. */
export async function shot(page: Page, name: string): Promise<void> {
  const file = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
}
