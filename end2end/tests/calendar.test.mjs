// The schedule calendar in a real browser: click a day, drag a range, edit the team grid,
// keyboard use, survive a reload, roll back visibly when the server refuses, and a phone
// layout; plus the iCalendar feed read by a real iCalendar parser (ical.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

const ADMIN_PASSWORD = 'Calendar-Admin-2026';
const API_TOKEN = 'e2e-calendar-token-0123456789';
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

async function shiftIds() {
  const { body } = await api('GET', '/api/v1/shifts?archived=true');
  return Object.fromEntries(body.map((shift) => [shift.name, shift.id]));
}

async function stored(from, to, userId = 1) {
  const { body } = await api('GET', `/api/v1/schedules?user_id=${userId}&from=${from}&to=${to}`);
  return body;
}

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  return errors;
}

async function openCalendar(page, path) {
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.waitForSelector('.calendar-surface', { timeout: 20000 });
}

// Days of the shown month that are not today, so the tests do not depend on the date.
async function monthDays(page) {
  return page.$$eval('.month-grid .day:not(.outside)', (cells) => cells.map((cell) => cell.dataset.date));
}

async function pick(page, shiftName) {
  await page.getByTestId('shift-picker').waitFor();
  await page.locator(`.picker-choice[data-shift="${shiftName}"]`).click();
  await page.getByTestId('calendar-message').getByText('已保存').waitFor({ timeout: 20000 });
}

test('a day gets a shift by clicking, and keeps it after a reload', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await openCalendar(page, '/schedule');

  const today = await page.$eval('.month-grid .day.today', (cell) => cell.dataset.date);
  assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
  const day = (await monthDays(page))[3];
  await page.locator(`.day[data-date="${day}"]`).click();
  await pick(page, 'A班');
  await page.locator(`.day[data-date="${day}"] .chip[data-shift="A班"]`).waitFor();
  assert.equal((await stored(day, day)).length, 1);
  await page.screenshot({ path: 'test-results/calendar-month.png', fullPage: true });

  await page.reload();
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.locator(`.day[data-date="${day}"] .chip[data-shift="A班"]`).waitFor();

  // Holiday markers are drawn (休 / 班 with the holiday's name) when the month has any.
  await page.getByRole('button', { name: '下一页' }).click();
  await page.getByTestId('calendar-title').getByText('月').waitFor();
  assert.deepEqual(errors, []);
});

test('dragging across days assigns the whole range in one go', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await openCalendar(page, '/schedule');
  const days = await monthDays(page);
  // Three consecutive days in the second week of the month.
  const range = days.slice(8, 11);
  const first = await page.locator(`.day[data-date="${range[0]}"]`).boundingBox();
  const last = await page.locator(`.day[data-date="${range[2]}"]`).boundingBox();
  await page.mouse.move(first.x + first.width / 2, first.y + first.height / 2);
  await page.mouse.down();
  await page.mouse.move(last.x + last.width / 2, last.y + last.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.getByTestId('shift-picker').getByText('已选 3 天').waitFor();
  await pick(page, 'B班');
  for (const day of range) {
    await page.locator(`.day[data-date="${day}"] .chip[data-shift="B班"]`).waitFor();
  }
  assert.equal((await stored(range[0], range[2])).length, 3);

  // Shift-click extends a selection; Delete clears it.
  await page.locator(`.day[data-date="${range[0]}"]`).click();
  await page.keyboard.press('Escape');
  await page.locator(`.day[data-date="${range[2]}"]`).click({ modifiers: ['Shift'] });
  await page.getByTestId('shift-picker').getByText('已选 3 天').waitFor();
  await page.getByTestId('clear-shift').click();
  await page.getByTestId('calendar-message').getByText('已保存：3 天清除').waitFor({ timeout: 20000 });
  assert.equal((await stored(range[0], range[2])).length, 0);

  // Keyboard: arrows move the cursor, Enter opens the picker.
  await page.locator(`.day[data-date="${range[0]}"]`).click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.getByTestId('shift-picker').waitFor();
  // 1–9 pick the listed shifts: A班, B班, 休.
  await page.keyboard.press('3');
  await page.getByTestId('calendar-message').getByText('已保存：1 天排为“休”').waitFor({ timeout: 20000 });
  await page.locator(`.day[data-date="${range[1]}"] .chip[data-shift="休"]`).waitFor();

  await page.reload();
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.locator(`.day[data-date="${range[1]}"] .chip[data-shift="休"]`).waitFor();
  assert.equal(await page.locator(`.day[data-date="${range[0]}"] .chip`).count(), 0);
  assert.deepEqual(errors, []);
});

test('the team grid edits several people at once', async (t) => {
  const created = await api('POST', '/api/v1/users', {
    username: 'grid-member', password: 'grid-member-1', display_name: '网格成员', must_change_password: false,
  });
  assert.equal(created.status, 201);
  const memberId = created.body.id;
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await openCalendar(page, '/schedule/team');
  const dates = await page.$$eval('tr[data-user="admin"] td[data-date]', (cells) => cells.map((cell) => cell.dataset.date));
  const day = dates[4];
  // A rectangle: both people, one day.
  const top = await page.locator(`tr[data-user="admin"] td[data-date="${day}"]`).boundingBox();
  const bottom = await page.locator(`tr[data-user="grid-member"] td[data-date="${day}"]`).boundingBox();
  await page.mouse.move(top.x + top.width / 2, top.y + top.height / 2);
  await page.mouse.down();
  await page.mouse.move(bottom.x + bottom.width / 2, bottom.y + bottom.height / 2, { steps: 5 });
  await page.mouse.up();
  await pick(page, 'A班');
  await page.screenshot({ path: 'test-results/calendar-team.png', fullPage: true });
  assert.equal((await stored(day, day, memberId)).length, 1);
  assert.equal((await stored(day, day, 1)).length, 1);

  // Filtering by name narrows the rows.
  await page.getByLabel('筛选成员').fill('网格');
  await page.waitForFunction(() => document.querySelectorAll('.team-grid tbody tr').length === 1);

  await page.reload();
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.locator(`tr[data-user="grid-member"] td[data-date="${day}"] .chip[data-shift="A班"]`).waitFor();
  assert.deepEqual(errors, []);
});

test('a change the server refuses is rolled back with a message', async (t) => {
  const ids = await shiftIds();
  const temporary = await api('POST', '/api/v1/shifts', { name: '临时班', label: '临', start: '10:00', end: '19:00' });
  assert.equal(temporary.status, 201);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await openCalendar(page, '/schedule');
  // Archived behind the page's back: the picker still offers it, the server refuses it.
  const archived = await api('PATCH', `/api/v1/shifts/${temporary.body.id}`, { active: false });
  assert.equal(archived.status, 200);
  const day = (await monthDays(page))[15];
  await page.locator(`.day[data-date="${day}"]`).click();
  await page.getByTestId('shift-picker').waitFor();
  await page.locator('.picker-choice[data-shift="临时班"]').click();
  await page.getByTestId('calendar-message').getByText('保存失败，已撤销').waitFor({ timeout: 20000 });
  assert.match(await page.getByTestId('calendar-message').innerText(), /已归档/);
  assert.equal(await page.locator(`.day[data-date="${day}"] .chip`).count(), 0);
  assert.equal((await stored(day, day)).length, 0);
  assert.ok(ids['A班']);
});

test('on a 375 px phone the month is a list of days without overflow', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await openCalendar(page, '/schedule');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const columns = await page.$eval('.month-grid', (grid) => getComputedStyle(grid).gridTemplateColumns.split(' ').length);
  assert.equal(columns, 1);
  const day = (await monthDays(page))[5];
  await page.locator(`.day[data-date="${day}"]`).click();
  await pick(page, 'A班');
  await page.screenshot({ path: 'test-results/calendar-phone.png', fullPage: true });
});

test('the iCalendar feed parses with a real iCalendar parser', async () => {
  const ids = await shiftIds();
  // A month ahead, inside the feed's window whatever today is.
  const ahead = (days) => new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
  const [workDay, restDay] = [ahead(40), ahead(41)];
  await api('PUT', '/api/v1/schedules', [
    { user_id: 1, date: workDay, shift_id: ids['A班'], note: '值班, 含周会' },
    { user_id: 1, date: restDay, shift_id: ids['休'] },
  ]);
  // The feed belongs to a person: created with the session, not the API token.
  const login = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const created = await fetch(`${server.url}/api/v1/me/calendar-feed`, {
    method: 'POST', headers: { Cookie: cookie, Origin: server.url },
  });
  assert.equal(created.status, 201);
  const { path } = await created.json();
  const feed = await fetch(`${server.url}${path}`);
  assert.equal(feed.status, 200);
  const text = await feed.text();
  const calendar = new ICAL.Component(ICAL.parse(text));
  const zone = calendar.getFirstSubcomponent('vtimezone');
  assert.equal(zone.getFirstPropertyValue('tzid'), 'Asia/Shanghai');
  ICAL.TimezoneService.register(zone);
  const events = calendar.getAllSubcomponents('vevent').map((component) => new ICAL.Event(component));
  const work = events.find((event) => event.summary === 'A班' && event.startDate.toString().startsWith(workDay));
  assert.ok(work, 'the A班 day is in the feed');
  assert.equal(work.description, '值班, 含周会', text);
  // 09:00 in Shanghai is 01:00 UTC.
  assert.equal(work.startDate.toJSDate().toISOString(), `${workDay}T01:00:00.000Z`);
  assert.equal(work.endDate.toJSDate().toISOString(), `${workDay}T10:00:00.000Z`);
  const rest = events.find((event) => event.summary === '休' && event.startDate.toString().startsWith(restDay));
  assert.ok(rest.startDate.isDate, 'rest days are all-day events');
});

test('a holiday file over its size limit is refused in the browser before it is sent', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page);
  const sent = [];
  page.on('request', (request) => {
    if (request.url().includes('import_holiday_file')) sent.push(request.url());
  });
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await page.goto(`${server.url}/holidays`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.locator('#holiday-file').setInputFiles({
    name: '2026.json',
    mimeType: 'application/json',
    buffer: Buffer.alloc(1024 * 1024 + 1, ' '),
  });
  await page.getByRole('button', { name: '导入', exact: true }).click();
  await page.getByRole('alert').getByText('文件：不能超过 1 MiB').waitFor({ timeout: 20000 });
  assert.deepEqual(sent, [], 'nothing was uploaded');
  assert.deepEqual(errors, []);
});
