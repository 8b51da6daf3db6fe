// The reminder engine end to end, as an admin sees it: create a shift, a robot and today's
// schedule in the UI, see the reminder in the preview, move the server's clock (a file the
// server reads in development), watch a local mock DingTalk robot receive the signed message
// with the @mention, and find it in the delivery history as sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

const ADMIN_PASSWORD = 'Reminder-Admin-2026';
const API_TOKEN = 'e2e-reminder-token-0123456789';
const SECRET = 'SECe2erobotsecret0123';
const DAY = '2026-11-23';

let server;
let robot;
let clockDir;
let clockFile;

function setClock(localTime) {
  writeFileSync(clockFile, `${DAY}T${localTime}+08:00`);
}

// A DingTalk custom robot: checks the signature exactly as DingTalk documents it and
// answers with its error codes.
function startRobot() {
  const received = [];
  const http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      const url = new URL(request.url, 'http://robot');
      const timestamp = url.searchParams.get('timestamp');
      const expected = createHmac('sha256', SECRET).update(`${timestamp}\n${SECRET}`).digest('base64');
      response.setHeader('Content-Type', 'application/json');
      if (url.pathname !== '/robot/send' || url.searchParams.get('sign') !== expected
          || Math.abs(Date.now() - Number(timestamp)) > 3600000) {
        response.end(JSON.stringify({ errcode: 310000, errmsg: 'sign not match' }));
        return;
      }
      received.push(JSON.parse(body));
      response.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${http.address().port}/robot/send?access_token=e2etoken`,
        received,
        close: () => new Promise((r) => http.close(r)),
      });
    });
  });
}

before(async () => {
  robot = await startRobot();
  clockDir = mkdtempSync(join(tmpdir(), 'dda-clock-'));
  clockFile = join(clockDir, 'clock');
  setClock('07:00:00');
  server = await startServer({
    ADMIN_PASSWORD,
    API_TOKEN,
    TEST_CLOCK_FILE: clockFile,
    ALLOW_PRIVATE_WEBHOOKS: 'true',
    REMINDER_TICK_SECONDS: '1',
    PUBLIC_URL: '@self',
  });
});

after(async () => {
  await server?.stop();
  await robot?.close();
  if (clockDir) rmSync(clockDir, { recursive: true, force: true });
});

function api(method, path, body) {
  return apiClient(server, API_TOKEN)(method, path, body);
}

async function open(page, path) {
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
}

test('shift → schedule → preview → robot receives it → history shows it sent', async (t) => {
  // The admin is the one scheduled; the robot @mentions them by mobile.
  const mobile = await api('PATCH', '/api/v1/users/1', { mobile: '13800138000' });
  assert.equal(mobile.status, 200, JSON.stringify(mobile.body));

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);

  // 1. A shift starting 08:00, reminded 10 minutes before.
  await open(page, '/shifts');
  await page.getByRole('button', { name: '新建班次' }).click();
  await page.locator('input[name="name"]').fill('早会班');
  await page.locator('input[name="label"]').fill('会');
  await page.locator('input[name="start"]').fill('08:00');
  await page.locator('input[name="end"]').fill('17:00');
  await page.locator('input[name="remind_before_min"]').fill('10');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByTestId('shift-table').getByText('早会班').waitFor({ timeout: 20000 });

  // 2. The team's DingTalk robot, signed.
  await open(page, '/channels');
  await page.getByTestId('new-channel').click();
  const form = page.locator('#channel-form');
  await form.locator('input[name="name"]').fill('值班群机器人');
  await form.locator('select[name="kind"]').selectOption('dingtalk');
  await form.locator('input[name="url"]').fill(robot.url);
  await form.locator('input[name="secret"]').fill(SECRET);
  await form.getByRole('button', { name: '保存' }).click();
  await page.locator('#channels-table [data-testid="channel-row"]').first().waitFor({ timeout: 20000 });
  assert.ok(!(await page.content()).includes(SECRET), 'the secret is never shown');

  // 3. Today on that shift, in the calendar.
  await open(page, '/schedule');
  await page.waitForSelector('.calendar-surface', { timeout: 20000 });
  await page.locator(`.month-grid .day[data-date="${DAY}"]`).click();
  await page.getByTestId('shift-picker').waitFor();
  await page.locator('.picker-choice[data-shift="早会班"]').click();
  await page.getByTestId('calendar-message').getByText('已保存').waitFor({ timeout: 20000 });

  // 4. The preview shows the 07:50 clock-in reminder going to that robot.
  await open(page, '/reminders');
  const row = page.locator(`[data-testid="upcoming-row"][data-kind="clock_in"][data-date="${DAY}"][data-sequence="0"]`);
  await row.waitFor({ timeout: 20000 });
  const rowText = await row.innerText();
  assert.match(rowText, /07:50/);
  assert.match(rowText, /值班群机器人/);

  // 5. The clock reaches 07:50: the robot gets the signed message with the mention.
  setClock('07:49:58');
  const deadline = Date.now() + 20000;
  while (robot.received.length === 0) {
    assert.ok(Date.now() < deadline, `the robot received nothing:\n${server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const message = robot.received[0];
  assert.equal(message.msgtype, 'text');
  assert.match(message.text.content, /【上班提醒】/);
  assert.match(message.text.content, /早会班/);
  assert.match(message.text.content, /@13800138000/);
  assert.deepEqual(message.at.atMobiles, ['13800138000']);

  // 6. The history shows it sent, on time.
  await open(page, '/deliveries');
  const sent = page.locator('[data-testid="delivery-row"][data-kind="clock_in"]').first();
  await sent.waitFor({ timeout: 20000 });
  assert.equal(await sent.getAttribute('data-status'), 'sent');
  assert.match(await sent.getByTestId('delivery-status').innerText(), /已发送/);
  assert.equal(robot.received.length, 1, 'sent once');
  await page.screenshot({ path: 'test-results/reminders-history.png', fullPage: true });
  assert.deepEqual(errors, []);
});

test('a person switches their own reminders off and a shift gets its own follow-ups', async (t) => {
  const member = await api('POST', '/api/v1/users', {
    username: 'optout', password: 'optout-password-1', must_change_password: false,
  });
  assert.equal(member.status, 201, JSON.stringify(member.body));
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  await signIn(page, server.url, 'optout', 'optout-password-1');
  await open(page, '/account/profile');
  const form = page.getByTestId('profile-form');
  const box = form.locator('input[name="reminders_enabled"]');
  assert.equal(await box.isChecked(), true);
  await box.uncheck();
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('已保存').waitFor({ timeout: 20000 });
  const stored = await api('GET', `/api/v1/users/${member.body.id}`);
  assert.equal(stored.body.reminders_enabled, false);

  // The admin, in a browser of their own.
  const adminBrowser = await launchBrowser();
  t.after(() => adminBrowser.close());
  const adminPage = await adminBrowser.newPage({ viewport: { width: 1280, height: 900 } });
  adminPage.on('pageerror', (error) => errors.push(String(error)));
  await signIn(adminPage, server.url, 'admin', ADMIN_PASSWORD);
  await open(adminPage, '/shifts');
  await adminPage.getByRole('button', { name: '新建班次' }).click();
  await adminPage.locator('input[name="name"]').fill('追提醒班');
  await adminPage.locator('input[name="label"]').fill('追');
  await adminPage.locator('input[name="start"]').fill('10:00');
  await adminPage.locator('input[name="end"]').fill('19:00');
  await adminPage.locator('input[name="follow_up_count"]').fill('2');
  await adminPage.locator('input[name="follow_up_every_min"]').fill('15');
  await adminPage.getByRole('button', { name: '保存' }).click();
  await adminPage.getByTestId('shift-table').getByText('追提醒班').waitFor({ timeout: 20000 });
  const shifts = await api('GET', '/api/v1/shifts');
  const shift = shifts.body.find((s) => s.name === '追提醒班');
  assert.equal(shift.follow_up_count, 2);
  assert.equal(shift.follow_up_every_min, 15);
  assert.deepEqual(errors, []);
});

// A Bark server (https://api.day.app and self-hosted ones): POST {base}/push with the device
// key; a reminder must pierce focus modes (`level: timeSensitive`).
function startBark() {
  const received = [];
  const http = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      response.setHeader('Content-Type', 'application/json');
      let push;
      try { push = JSON.parse(body); } catch { push = null; }
      if (request.method !== 'POST' || request.url !== '/bark/push' || !push
          || !push.device_key || !push.body || push.level !== 'timeSensitive') {
        response.statusCode = 400;
        response.end(JSON.stringify({ code: 400, message: 'bad request' }));
        return;
      }
      received.push(push);
      response.end(JSON.stringify({ code: 200, message: 'success', timestamp: 1700000000 }));
    });
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => {
      resolve({
        address: `bark://127.0.0.1:${http.address().port}/bark/E2EDeviceKey0001`,
        received,
        close: () => new Promise((r) => http.close(r)),
      });
    });
  });
}

async function until(what, check, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < deadline, `${what}:\n${server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a member adds Bark on their profile, tests it, and "我已打卡" in the push stops the follow-up', async (t) => {
  const bark = await startBark();
  t.after(() => bark.close());
  const member = await api('POST', '/api/v1/users', {
    username: 'barkuser', display_name: '小巴', password: 'bark-password-1', must_change_password: false,
  });
  assert.equal(member.status, 201, JSON.stringify(member.body));
  const shift = await api('POST', '/api/v1/shifts', {
    name: '午班', label: '午', color: '#2f855a', start: '12:00', end: '20:00',
    remind_before_min: 15, follow_up_count: 1, follow_up_every_min: 10,
  });
  assert.equal(shift.status, 201, JSON.stringify(shift.body));
  const planned = await api('PUT', '/api/v1/schedules', [
    { user_id: member.body.id, date: DAY, shift_id: shift.body.id },
  ]);
  assert.equal(planned.status, 200, JSON.stringify(planned.body));

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await signIn(page, server.url, 'barkuser', 'bark-password-1');

  // 1. On the profile page: add the Bark address, only for clock-in reminders.
  await open(page, '/account/profile');
  const mine = page.getByTestId('my-channels');
  await mine.getByTestId('no-channels').waitFor({ timeout: 20000 });
  await mine.getByTestId('new-channel').click();
  const form = mine.locator('#channel-form');
  await form.locator('input[name="name"]').fill('我的 Bark');
  // Written as Apprise writes it: a ringtone, and a parameter that changes nothing here.
  await form.locator('input[name="url"]').fill(`${bark.address}?sound=alarm&overflow=split`);
  await form.locator('input[name="purpose_clock_out"]').uncheck();
  await form.getByRole('button', { name: '保存' }).click();
  const row = mine.locator('[data-testid="channel-row"]').first();
  await row.waitFor({ timeout: 20000 });
  assert.equal(await row.getAttribute('data-kind'), 'bark');
  assert.ok(!(await page.content()).includes('E2EDeviceKey0001'), 'the device key is masked');
  assert.match(await row.locator('.masked-url').innerText(), /\?sound=alarm$/);
  assert.equal(
    await row.getByTestId('channel-ignored-params').innerText(),
    '已忽略 overflow：提醒很短，不需要拆分或截断',
  );

  // 2. Test it: the push arrives and the page says so.
  await row.getByTestId('test-channel').click();
  await mine.locator('#channel-test-result').getByText('已接收').waitFor({ timeout: 20000 });
  assert.equal(bark.received.length, 1);
  assert.equal(bark.received[0].device_key, 'E2EDeviceKey0001');
  assert.equal(bark.received[0].sound, 'alarm');

  // 3. 11:45: the reminder arrives privately, with the one-click link.
  setClock('11:45:00');
  const reminder = await until('no reminder reached Bark', () => bark.received.find((push) => /^【上班提醒】小巴/.test(push.body)));
  assert.match(reminder.body, /小巴/);
  assert.ok(reminder.url?.startsWith(`${server.url}/r/`), JSON.stringify(reminder));

  // 4. Following "我已打卡": a confirmation page, then the punch.
  await page.goto(reminder.url);
  await page.getByTestId('link-question').waitFor({ timeout: 20000 });
  await page.getByTestId('link-confirm').click();
  await page.getByTestId('link-done').waitFor({ timeout: 20000 });
  assert.match(await page.getByTestId('link-done').innerText(), /已记录上班打卡/);

  // 5. 11:55: the follow-up is skipped, and nothing more reaches Bark.
  const pushes = bark.received.length;
  setClock('11:55:00');
  const followUp = await until('the follow-up was not settled', async () => {
    const rows = await api('GET', `/api/v1/deliveries?user_id=${member.body.id}&per_page=50`);
    return rows.body.items.find((item) => item.sequence === 1 && !['pending', 'sending'].includes(item.status));
  });
  assert.equal(followUp.status, 'skipped', JSON.stringify(followUp));
  assert.equal(bark.received.length, pushes, 'no follow-up push');
  assert.deepEqual(errors, []);
});
