// Requests in a real browser: a member asks a colleague to swap from a day in the calendar,
// the colleague accepts on the requests page, an admin approves in one tap, and the
// calendar shows the swapped shift; pending requests are marked on the day meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

const ADMIN_PASSWORD = 'Requests-Admin-2026';
const MEMBER_PASSWORD = 'requests-member-pass-1';
const API_TOKEN = 'e2e-requests-token-0123456789';
let server;

before(async () => {
  server = await startServer({ ADMIN_PASSWORD, API_TOKEN });
});

after(async () => {
  await server?.stop();
});

function api(method, path, body) {
  return apiClient(server, API_TOKEN)(method, path, body);
}

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  return errors;
}

async function member(username, displayName) {
  const created = await api('POST', '/api/v1/users', {
    username, password: MEMBER_PASSWORD, display_name: displayName, must_change_password: false,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

async function signedIn(t, username, password, viewport = { width: 1280, height: 900 }) {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport });
  const errors = watchErrors(page);
  await signIn(page, server.url, username, password);
  return { page, errors };
}

// Opens /schedule and pages to the month holding `day`; returns the day's cell.
async function dayCell(page, day) {
  await page.goto(`${server.url}/schedule`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.waitForSelector('.calendar-surface', { timeout: 20000 });
  const cell = page.locator(`.month-grid .day:not(.outside)[data-date="${day}"]`);
  if (!(await cell.count())) {
    await page.getByLabel('下一页').click();
    await cell.waitFor({ timeout: 20000 });
  }
  return cell;
}

async function requestState(page, id) {
  return page.locator(`[data-request-id="${id}"]`).getAttribute('data-state');
}

test('a swap goes from the calendar to acceptance to approval', async (t) => {
  const alice = await member('swap-alice', '爱丽丝');
  const bob = await member('swap-bob', '鲍勃');
  const { body: shifts } = await api('GET', '/api/v1/shifts');
  const byName = Object.fromEntries(shifts.map((shift) => [shift.name, shift.id]));
  // Three days ahead: after today in any time zone, and in the month grid or the next.
  const day = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
  const planned = await api('PUT', '/api/v1/schedules', [
    { user_id: alice, date: day, shift_id: byName['A班'] },
    { user_id: bob, date: day, shift_id: byName['B班'] },
  ]);
  assert.equal(planned.status, 200, JSON.stringify(planned.body));

  // Alice starts from the day in her calendar.
  const asker = await signedIn(t, 'swap-alice', MEMBER_PASSWORD);
  const dayLink = (await dayCell(asker.page, day)).getByTestId('day-request');
  await Promise.all([
    asker.page.waitForURL((url) => url.pathname === '/requests', { timeout: 20000 }),
    dayLink.click(),
  ]);
  await asker.page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  assert.equal(await asker.page.locator('[data-testid="request-form"] input[name="date"]').inputValue(), day);
  await asker.page.getByTestId('request-kind-swap').click();
  await asker.page.getByTestId('request-peer').selectOption(String(bob));
  await asker.page.locator('[data-testid="request-form"] input[name="reason"]').fill('家里有事');
  await asker.page.getByTestId('request-submit').click();
  const row = asker.page.getByTestId('request').first();
  await row.getByTestId('request-state').getByText('等同事确认').waitFor({ timeout: 20000 });
  const id = await row.getAttribute('data-request-id');
  assert.ok(id);
  // Alice may only withdraw it.
  assert.deepEqual(await row.locator('.request-actions button').allTextContents(), ['撤回']);

  // The calendar marks the day while the request is undecided.
  const pendingMark = (await dayCell(asker.page, day)).getByTestId('request-mark');
  await pendingMark.first().waitFor({ timeout: 20000 });
  assert.match(await pendingMark.first().textContent(), /换班待定/);

  // Bob accepts on his requests page, on a phone.
  const colleague = await signedIn(t, 'swap-bob', MEMBER_PASSWORD, { width: 375, height: 740 });
  await colleague.page.goto(`${server.url}/requests`);
  await colleague.page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  const bobsRow = colleague.page.locator(`[data-request-id="${id}"]`);
  await bobsRow.getByTestId('request-accept').click();
  await colleague.page.locator(`[data-request-id="${id}"][data-state="pending"]`).waitFor({ timeout: 20000 });
  const overflow = await colleague.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the requests page is ${overflow}px wider than the phone`);

  // The admin approves in one tap.
  const admin = await signedIn(t, 'admin', ADMIN_PASSWORD);
  await admin.page.goto(`${server.url}/requests`);
  await admin.page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await admin.page.locator(`[data-request-id="${id}"]`).getByTestId('request-approve').click();
  await admin.page.locator(`[data-request-id="${id}"][data-state="approved"]`).waitFor({ timeout: 20000 });
  assert.equal(await requestState(admin.page, id), 'approved');

  // The schedule changed hands.
  const { body: entries } = await api('GET', `/api/v1/schedules?from=${day}&to=${day}`);
  const shiftOf = (userId) => entries.find((entry) => entry.user_id === userId)?.shift_id;
  assert.equal(shiftOf(alice), byName['B班']);
  assert.equal(shiftOf(bob), byName['A班']);
  const { body: request } = await api('GET', `/api/v1/requests/${id}`);
  assert.deepEqual(request.history.map((event) => event.action), ['create', 'accept', 'approve']);
  const swapped = (await dayCell(asker.page, day)).locator('.chip[data-shift="B班"]');
  await swapped.waitFor({ timeout: 20000 });

  for (const { errors } of [asker, colleague, admin]) {
    assert.deepEqual(errors, []);
  }
});
