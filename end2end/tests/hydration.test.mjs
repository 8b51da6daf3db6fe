// Headless-Chromium checks of what only a browser shows: the page hydrates, client-side
// interactions work, and the layout holds at a 375 px phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

let server;
let browser;

const ADMIN_PASSWORD = 'e2e-admin-passphrase';
const API_TOKEN = 'e2e-hydration-api-token-0123456789';

before(async () => {
  server = await startServer({ ADMIN_PASSWORD, API_TOKEN });
  browser = await launchBrowser();
  // The browser profile keeps the session cookie for the tests below.
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await page.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openPage(path, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const response = await page.goto(server.url + path);
  return { page, response, errors };
}

test('home page hydrates and its clock ticks in the browser', async () => {
  const { page, response, errors } = await openPage('/');
  assert.equal(response.status(), 200);
  // data-hydrated flips only when the WASM has taken over the server-rendered page.
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  const clock = page.getByTestId('live-clock');
  const first = await clock.textContent();
  assert.match(first, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  await page.waitForFunction(
    (before) => document.querySelector('[data-testid="live-clock"]').textContent !== before,
    first,
    { timeout: 5000 },
  );
  assert.equal(await page.title(), '首页 · 钉钉打卡提醒');
  await page.screenshot({ path: 'test-results/home-desktop.png', fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the home page lists today\'s team one row per shift, its people by name', async () => {
  const api = apiClient(server, API_TOKEN);
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  const shifts = (await api('GET', '/api/v1/shifts')).body;
  const shiftId = (name) => shifts.find((shift) => shift.name === name).id;
  const plan = [['丙丙', 'A班'], ['乙乙', 'A班'], ['甲甲', 'B班']];
  const items = [];
  for (const [index, [name, shift]] of plan.entries()) {
    const created = await api('POST', '/api/v1/users', {
      username: `team${index}`, display_name: name, password: 'member-password-1',
      role: 'member', must_change_password: false,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    items.push({ user_id: created.body.id, date: today, shift_id: shiftId(shift) });
  }
  assert.equal((await api('PUT', '/api/v1/schedules', items)).status, 200);

  const { page, errors } = await openPage('/', { width: 375, height: 800 });
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  const rows = page.getByTestId('team-today-row');
  assert.equal(await rows.count(), 2);
  assert.equal(await rows.nth(0).getAttribute('data-shift'), 'A班');
  assert.equal(await rows.nth(0).locator('.people').textContent(), '丙丙、乙乙');
  assert.match(await rows.nth(0).textContent(), /2 人/);
  assert.equal(await rows.nth(1).getAttribute('data-shift'), 'B班');
  assert.equal(await rows.nth(1).locator('.people').textContent(), '甲甲');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: 'test-results/home-team-today-phone.png', fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('on a 375 px phone the menu button opens the navigation', async () => {
  const { page, errors } = await openPage('/', { width: 375, height: 740 });
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  const nav = page.locator('#main-nav');
  const toggle = page.locator('.menu-toggle');
  assert.equal(await nav.isVisible(), false, 'navigation folds away on a phone');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  await nav.waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.equal(await nav.getByText('首页').isVisible(), true);
  // Nothing may overflow the phone's width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.screenshot({ path: 'test-results/home-phone-menu.png', fullPage: true });
  await toggle.click();
  await nav.waitFor({ state: 'hidden', timeout: 5000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('an unknown address shows the 404 page', async () => {
  const { page, response } = await openPage('/does-not-exist');
  assert.equal(response.status(), 404);
  await page.getByText('404 · 页面不存在').waitFor();
  await page.getByRole('link', { name: '返回首页' }).click();
  await page.waitForURL(server.url + '/');
  await page.getByText('系统概况').waitFor();
  await page.close();
});
