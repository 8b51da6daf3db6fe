// Every route, loaded fresh 20 times each as an admin and as a member, at desktop and
// 375 px widths: the page must hydrate every time with no page error and no console
// error, and no page may be wider than the screen. Hydration that diverges from the
// server's render panics in tachys and leaves the page dead, and it does so only some of
// the time, so one load proves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn, apiClient } from './support.mjs';

const ADMIN_PASSWORD = 'Every-Route-Admin-2026';
const MEMBER_PASSWORD = 'every-route-member-1';
const API_TOKEN = 'e2e-every-route-token-0123456789';
const LOADS_PER_ROUTE = 20;
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 375, height: 740 },
];
const ROUTES = [
  '/',
  '/schedule',
  '/schedule/team',
  '/schedule/batch',
  '/schedule/import',
  '/shifts',
  '/holidays',
  '/reminders',
  '/requests',
  '/deliveries',
  '/channels',
  '/account/profile',
  '/account/password',
  '/admin/users',
  '/admin/audit',
  '/settings',
];

// A member gets these as a 403 page (which must still hydrate cleanly).
const ADMIN_ROUTES = new Set(['/schedule/team', '/schedule/batch', '/admin/users', '/admin/audit', '/settings']);

let server;

before(async () => {
  server = await startServer({ ADMIN_PASSWORD, API_TOKEN });
  // Content on every page: a member with a schedule, a company day, a channel.
  const member = await api('POST', '/api/v1/users', {
    username: 'route-member', password: MEMBER_PASSWORD, display_name: '路由成员', must_change_password: false,
  });
  assert.equal(member.status, 201);
  const shifts = await api('GET', '/api/v1/shifts');
  const today = new Date().toISOString().slice(0, 10);
  const planned = await api('PUT', '/api/v1/schedules', [
    { user_id: 1, date: today, shift_id: shifts.body[0].id },
    { user_id: member.body.id, date: today, shift_id: shifts.body[0].id },
  ]);
  assert.equal(planned.status, 200, JSON.stringify(planned.body));
  const companyDay = await api('POST', '/api/v1/company-days', { date: `${today.slice(0, 4)}-12-31`, name: '公司年会', off_day: true });
  assert.ok(companyDay.status < 300, JSON.stringify(companyDay.body));
});

after(async () => {
  await server?.stop();
});

function api(method, path, body) {
  return apiClient(server, API_TOKEN)(method, path, body);
}

async function loadEveryRoute(username, password, { admin }) {
  const browser = await launchBrowser();
  const failures = [];
  try {
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage({ viewport });
      let current = '';
      page.on('pageerror', (error) => failures.push(`${current}: page error: ${error}`));
      let forbidden = false;
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        // Chromium logs a 403 document as a failed resource; that answer is expected here.
        if (forbidden && /status of 403/.test(message.text())) return;
        failures.push(`${current}: console error: ${message.text()}`);
      });
      await signIn(page, server.url, username, password);
      for (const route of ROUTES) {
        for (let load = 1; load <= LOADS_PER_ROUTE; load += 1) {
          current = `${username} ${viewport.width}px ${route} #${load}`;
          forbidden = !admin && ADMIN_ROUTES.has(route);
          const expected = forbidden ? 403 : 200;
          // A fresh navigation each time: server render, then hydration of that render.
          const response = await page.goto(server.url + route);
          if (response.status() !== expected) failures.push(`${current}: HTTP ${response.status()}, expected ${expected}`);
          try {
            await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
          } catch {
            failures.push(`${current}: never hydrated`);
          }
          if (load === 1) {
            // Nothing may be wider than the screen (tables stack or scroll inside their card).
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            if (overflow > 0) failures.push(`${current}: ${overflow}px wider than the screen`);
          }
        }
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return failures;
}

test(`every route hydrates cleanly ${LOADS_PER_ROUTE} times as an admin, on desktop and at 375 px`, async () => {
  assert.deepEqual(await loadEveryRoute('admin', ADMIN_PASSWORD, { admin: true }), []);
});

test(`every route hydrates cleanly ${LOADS_PER_ROUTE} times as a member, on desktop and at 375 px`, async () => {
  assert.deepEqual(await loadEveryRoute('route-member', MEMBER_PASSWORD, { admin: false }), []);
});
