// A company app end to end, as an admin sets it up: connect the company's DingTalk app on
// the settings page, bind the team by mobile there, and see the reminder arrive as a
// private work notification (at a mock of DingTalk's open platform) and in the history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

const ADMIN_PASSWORD = 'CompanyApp-Admin-2026';
const API_TOKEN = 'e2e-company-app-token-0123456789';
const APP_KEY = 'dingkqe2eappkey01';
const APP_SECRET = 'E2eAppSecretE2eAppSecretE2eAppSecret01';
const AGENT_ID = 3100000001;
const DAY = '2026-11-23';

let server;
let dingtalk;
let clockDir;
let clockFile;

function setClock(localTime) {
  writeFileSync(clockFile, `${DAY}T${localTime}+08:00`);
}

// DingTalk's open platform for one internal app: gettoken, work notifications (asyncsend_v2)
// with their request shape checked, getsendresult, and the directory by mobile.
function startDingTalk() {
  const notices = [];
  const tokens = [];
  const directory = { '13800138000': 'dt_admin' };
  const json = (response, value) => {
    response.setHeader('Content-Type', 'application/json');
    response.end(JSON.stringify(value));
  };
  const http = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => { raw += chunk; });
    request.on('end', () => {
      const url = new URL(request.url, 'http://dingtalk');
      if (request.method === 'GET' && url.pathname === '/gettoken') {
        if (url.searchParams.get('appkey') !== APP_KEY || url.searchParams.get('appsecret') !== APP_SECRET) {
          json(response, { errcode: 40089, errmsg: '不合法的corpid或corpsecret' });
          return;
        }
        const token = `e2e-token-${tokens.length + 1}`;
        tokens.push(token);
        json(response, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 });
        return;
      }
      if (!tokens.includes(url.searchParams.get('access_token'))) {
        json(response, { errcode: 40014, errmsg: '不合法的access_token' });
        return;
      }
      let body;
      try { body = JSON.parse(raw); } catch { body = null; }
      if (!body) {
        json(response, { errcode: 40035, errmsg: '缺少参数 json' });
        return;
      }
      switch (url.pathname) {
        case '/topapi/v2/user/getbymobile': {
          const userid = directory[body.mobile];
          json(response, userid
            ? { errcode: 0, errmsg: 'ok', result: { userid } }
            : { errcode: 60121, errmsg: '找不到该用户' });
          return;
        }
        case '/topapi/message/corpconversation/asyncsend_v2': {
          if (body.agent_id !== AGENT_ID || !body.userid_list || body.msg?.msgtype !== 'text'
              || !body.msg?.text?.content) {
            json(response, { errcode: 40035, errmsg: '缺少参数' });
            return;
          }
          notices.push({ to: body.userid_list, content: body.msg.text.content });
          json(response, { errcode: 0, task_id: 1000 + notices.length, request_id: 'e2e' });
          return;
        }
        case '/topapi/message/corpconversation/getsendresult':
          json(response, { errcode: 0, send_result: { unread_user_id_list: ['dt_admin'] } });
          return;
        default:
          response.statusCode = 404;
          json(response, { errcode: 404, errmsg: 'not found' });
      }
    });
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => {
      resolve({
        base: `http://127.0.0.1:${http.address().port}`,
        notices,
        tokens,
        close: () => new Promise((r) => http.close(r)),
      });
    });
  });
}

before(async () => {
  dingtalk = await startDingTalk();
  clockDir = mkdtempSync(join(tmpdir(), 'dda-clock-'));
  clockFile = join(clockDir, 'clock');
  setClock('07:00:00');
  server = await startServer({
    ADMIN_PASSWORD,
    API_TOKEN,
    TEST_CLOCK_FILE: clockFile,
    ALLOW_PRIVATE_WEBHOOKS: 'true',
    REMINDER_TICK_SECONDS: '1',
    DINGTALK_API_BASE: dingtalk.base,
  });
});

after(async () => {
  await server?.stop();
  await dingtalk?.close();
  if (clockDir) rmSync(clockDir, { recursive: true, force: true });
});

function api(method, path, body) {
  return apiClient(server, API_TOKEN)(method, path, body);
}

async function open(page, path) {
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
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

test('connect the DingTalk app in settings, bind by mobile, and the reminder arrives privately', async (t) => {
  // The admin works a 09:00 shift today and has a mobile on their profile, no DingTalk id.
  const mobile = await api('PATCH', '/api/v1/users/1', { mobile: '13800138000' });
  assert.equal(mobile.status, 200, JSON.stringify(mobile.body));
  const shift = await api('POST', '/api/v1/shifts', {
    name: '工作通知班', label: '通', start: '09:00', end: '18:00', remind_before_min: 15,
  });
  assert.equal(shift.status, 201, JSON.stringify(shift.body));
  const planned = await api('PUT', '/api/v1/schedules', [{ user_id: 1, date: DAY, shift_id: shift.body.id }]);
  assert.equal(planned.status, 200, JSON.stringify(planned.body));

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);

  // 1. Connect the app on the settings page.
  await open(page, '/settings');
  const section = page.getByTestId('company-apps');
  await section.getByTestId('no-company-app').waitFor({ timeout: 20000 });
  await section.locator('select[name="app_kind"]').selectOption('dingtalk_app');
  await section.locator('input[name="app_field_0"]').fill(APP_KEY);
  await section.locator('input[name="app_field_1"]').fill(APP_SECRET);
  await section.locator('input[name="app_field_2"]').fill(String(AGENT_ID));
  await section.getByTestId('connect-app-submit').click();
  await section.getByTestId('connect-app-ok').waitFor({ timeout: 20000 });
  const listed = section.getByTestId('company-app');
  await listed.waitFor({ timeout: 20000 });
  assert.match(await listed.innerText(), /钉钉工作通知/);
  assert.ok(!(await page.content()).includes(APP_SECRET), 'the AppSecret is never shown');

  // 2. Bind everyone by mobile: the admin is found, the report says so.
  await section.getByTestId('bind-by-mobile').click();
  const report = section.getByTestId('bind-report');
  await report.waitFor({ timeout: 20000 });
  assert.match(await report.innerText(), /已绑定 1 人/);
  const profile = await api('GET', '/api/v1/users/1');
  assert.equal(profile.body.dingtalk_user_id, 'dt_admin');

  // 3. 08:45: the work notification reaches the admin privately.
  setClock('08:44:58');
  await until('no work notification arrived', () => dingtalk.notices.length > 0);
  const notice = dingtalk.notices[0];
  assert.equal(notice.to, 'dt_admin');
  assert.match(notice.content, /【上班提醒】/);
  assert.match(notice.content, /工作通知班/);
  assert.equal(dingtalk.tokens.length, 1, 'one token for the lookup and the send');

  // 4. The history shows it sent through the app.
  await until('the delivery is not recorded as sent', async () => {
    const history = await api('GET', '/api/v1/deliveries?per_page=10');
    return history.body.items?.some((row) => row.status === 'sent');
  });
  await open(page, '/deliveries');
  const sent = page.locator('[data-testid="delivery-row"][data-kind="clock_in"]').first();
  await sent.waitFor({ timeout: 20000 });
  assert.equal(await sent.getAttribute('data-status'), 'sent');
  assert.match(await sent.innerText(), /钉钉工作通知/);
  await page.screenshot({ path: 'test-results/company-app-history.png', fullPage: true });

  // 5. The admin's own order, set on the profile page: the app first for clock-in.
  const channels = await api('GET', '/api/v1/channels');
  const appId = channels.body.find((channel) => channel.kind === 'dingtalk_app').id;
  await open(page, '/account/profile');
  const order = page.getByTestId('my-channel-order');
  const clockIn = order.locator('.order-kind[data-kind="clock_in"]');
  await clockIn.locator('select[name="add_clock_in"]').waitFor({ timeout: 20000 });
  await clockIn.locator('select[name="add_clock_in"]').selectOption(String(appId));
  await clockIn.getByTestId('add-clock_in').click();
  await clockIn.getByTestId('order-item').first().waitFor({ timeout: 20000 });
  await order.getByTestId('save-channel-order').click();
  await order.getByTestId('channel-order-saved').waitFor({ timeout: 20000 });
  const mine = await api('GET', '/api/v1/users/1/channel-order');
  assert.deepEqual(mine.body, { clock_in: [appId], clock_out: [] });
  await page.screenshot({ path: 'test-results/company-app-order.png', fullPage: true });
  assert.deepEqual(errors, []);
});
