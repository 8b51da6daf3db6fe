// Headless-Chromium checks of what only a browser shows: the page hydrates, client-side
// interactions work, and the layout holds at a 375 px phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './support.mjs';

let server;
let browser;

const ADMIN_PASSWORD = 'e2e-admin-passphrase';

before(async () => {
  server = await startServer({ ADMIN_PASSWORD });
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
