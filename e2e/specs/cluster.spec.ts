// Issue 15's acceptance: three browsers chat through HAProxy (round robin, no
// stickiness) in front of three parleyd nodes sharing PostgreSQL and Redis,
// while one node is killed (SIGKILL) and started again. Every message appears
// exactly once, in the same order, on every page. The cluster is the one
// `make cluster` runs (scripts/cluster.sh), in a folder and on ports of its own
// (support/cluster.ts).
import { expect, test, type Browser, type Page } from '@playwright/test';

import {
  composer,
  expectConnected,
  message,
  openRoom,
  recordStatuses,
  say,
  shot,
  signIn,
  statusesSeen,
  timeline,
  timelineLabels,
  uniqueRoom,
  unsettled,
  type User,
} from '../support/chat';
import { ownCluster } from '../support/cluster';

const stack = ownCluster();

const total = (counts: (number | null)[]) => counts.reduce<number>((sum, c) => sum + (c ?? 0), 0);

/**
 * Signs `name` in through HAProxy and finds the node its socket landed on:
 * the one whose connection count went up (nothing else connects meanwhile).
 */
async function signInOnSomeNode(browser: Browser, name: string): Promise<{ user: User; node: number }> {
  const { cluster } = stack;
  const before = await cluster.connections();
  const user = await signIn(browser, name, { baseURL: cluster.demoUrl });
  let after = before;
  await expect
    .poll(async () => total((after = await cluster.connections())), { timeout: 10_000 })
    .toBe(total(before) + 1);
  const node = after.findIndex((c, i) => c !== before[i]) + 1;
  return { user, node };
}

/** The server's sequence numbers of the open room's messages, in timeline order. */
async function seqs(page: Page): Promise<number[]> {
  return timeline(page)
    .getByRole('listitem')
    .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-seq'))));
}

/** Waits until `user`'s page shows each of `written` once (in any order) and none of its own waits or failed. */
async function expectEveryMessage(user: User, written: string[]): Promise<void> {
  await expect
    .poll(async () => (await timelineLabels(user.page)).sort(), { timeout: 60_000, message: `${user.name}'s timeline` })
    .toEqual([...written].sort());
  await expect(unsettled(user.page)).toHaveCount(0, { timeout: 30_000 });
}

test('three browsers chat through HAProxy while a node is killed and restarted', async ({ browser }) => {
  test.setTimeout(240_000);
  const { cluster } = stack;
  const room = uniqueRoom('cluster');

  // One after the other, so round robin puts each on a node of its own.
  const onNode = new Map<User, number>();
  for (const name of ['alice', 'bob', 'carol']) {
    const { user, node } = await signInOnSomeNode(browser, name);
    onNode.set(user, node);
  }
  const users = [...onNode.keys()];
  const [alice, bob, carol] = users;
  expect(new Set(onNode.values()).size, `nodes of alice, bob, carol: ${[...onNode.values()].join(', ')}`).toBe(3);
  for (const u of users) await openRoom(u.page, room);
  for (const u of users) await recordStatuses(u.page);

  // "sender: text" of every message, in the order it was written.
  const written: string[] = [];
  const round = async (phase: string, i: number, who: User[]) => {
    for (const u of who) {
      const text = `${phase} ${i} from ${u.name}`;
      await say(u.page, text);
      written.push(`${u.name}: ${text}`);
    }
  };

  for (let i = 1; i <= 3; i++) await round('before', i, users);
  // Alice's node dies mid-conversation: no goodbye to its clients.
  const victim = onNode.get(alice)!;
  test.info().annotations.push({
    type: 'nodes',
    description: `${users.map((u) => `${u.name} on node ${onNode.get(u)}`).join(', ')}; node ${victim} killed`,
  });
  // Alice has her next message typed when her node dies, and sends it at
  // once: into the dead socket, queued if her page noticed already, or on her
  // new connection if she was that quick to reconnect.
  await composer(alice.page).fill('during 1 from alice');
  await cluster.kill(victim);
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  written.push('alice: during 1 from alice');
  // Everyone keeps writing.
  await round('during', 1, [bob, carol]);
  for (let i = 2; i <= 4; i++) await round('during', i, users);

  // Alice's page said it was reconnecting, and came back through HAProxy on
  // a node that is alive.
  await expect
    .poll(async () => (await statusesSeen(alice.page)).connection, { timeout: 30_000 })
    .toEqual(expect.arrayContaining(['Reconnecting…']));
  await expectConnected(alice.page, 30_000);
  await expect
    .poll(async () => {
      const counts = await cluster.connections();
      return { victim: counts[victim - 1], others: total(counts) };
    })
    .toEqual({ victim: null, others: 3 });
  // Her queued messages went out: every page has all of it so far.
  for (const u of users) await expectEveryMessage(u, written);
  await shot(alice.page, 'cluster-alice-reconnected');

  // The node comes back. Dave signs in until HAProxy has put him on it, so
  // that it serves a page again: the history from PostgreSQL, then live.
  await cluster.restart(victim);
  let dave: User | undefined;
  await expect(async () => {
    const user = await signIn(browser, 'dave', { baseURL: cluster.demoUrl });
    if ((await cluster.connections())[victim - 1] === 1) {
      dave = user;
      return;
    }
    await user.context.close();
    throw new Error(`dave is not on node ${victim} yet`);
  }).toPass({ timeout: 60_000 });
  await openRoom(dave!.page, room);
  await recordStatuses(dave!.page);
  const everyone = [...users, dave!];

  for (let i = 1; i <= 3; i++) await round('after', i, everyone);

  // Settled: every page has every message, and none waits or failed.
  for (const u of everyone) await expectEveryMessage(u, written);
  // Bob writes last: once his message is on every page, a late duplicate
  // would be too (the room has one order, and every page shows all of it).
  await say(bob.page, 'the end');
  written.push('bob: the end');
  for (const u of everyone) await expect(message(u.page, 'bob', 'the end')).toBeVisible({ timeout: 30_000 });

  const shown = await Promise.all(everyone.map((u) => timelineLabels(u.page)));
  for (const [i, u] of everyone.entries()) {
    // Every message once...
    expect([...shown[i]].sort(), `${u.name}'s timeline`).toEqual([...written].sort());
    // ...in the same order everywhere...
    expect(shown[i], `${u.name}'s order against alice's`).toEqual(shown[0]);
    // ...each sender's in the order they were written...
    for (const sender of everyone) {
      const mine = (list: string[]) => list.filter((l) => l.startsWith(`${sender.name}: `));
      expect(mine(shown[i]), `${sender.name}'s messages on ${u.name}'s page`).toEqual(mine(written));
    }
    // ...under the server's gap-free sequence numbers...
    expect(await seqs(u.page), `${u.name}'s seqs`).toEqual(written.map((_, k) => k + 1));
    // ...and nothing waits or failed.
    await expect(unsettled(u.page)).toHaveCount(0);
  }
  // Only alice's page lost its connection, and no message ever failed on
  // the way (a message failed and retried by hand is no failover).
  for (const u of everyone) {
    const seen = await statusesSeen(u.page);
    if (u !== alice) expect(seen.connection, `${u.name}'s connection status`).toEqual(['Connected']);
    for (const [label, statuses] of Object.entries(seen.messages)) expect(statuses, label).not.toContain('Failed');
  }
  // Which of those it was depends on timing, so the report says: "Sending… →
  // Queued → Sending… → Sent" (into the dead socket, sent again), "Queued →
  // Sending… → Sent" (written while reconnecting) or "Sending… → Sent".
  const aliceSeen = await statusesSeen(alice.page);
  test.info().annotations.push({
    type: 'alice after the kill',
    description: written
      .filter((w) => w.startsWith('alice: during '))
      .map((w) => `${w} (${aliceSeen.messages[w]?.join(' → ')})`)
      .join('; '),
  });

  for (const u of everyone) await shot(u.page, `cluster-${u.name}-final`);
  for (const u of everyone) await u.context.close();
});
