// What each route's first visit downloads of WASM and JS, and what navigating in the app
// loads afterwards (issue 30's budget: at most 250 KB brotli per first visit). Run by
// bench/first-load.sh against a release server; prints Markdown, asserts nothing.
//
//   node bench/first-load.mjs <base-url> <session-cookie-value> <site-root>
//
// Chromium does not ask for brotli over plain http, so the files a visit requested are
// counted at the size of their precompressed `.br` copies in the site root (what a browser
// gets over HTTPS), next to their raw size.
import { existsSync, statSync } from 'node:fs';
import { chromium } from '../end2end/node_modules/playwright-core/index.mjs';

const [base, cookie, siteRoot] = process.argv.slice(2);
const ROUTES = [
  '/login', '/', '/schedule', '/schedule/team', '/reminders', '/requests', '/account/profile',
  '/account/password', '/shifts', '/holidays', '/deliveries', '/channels', '/admin/users',
  '/admin/audit', '/schedule/batch', '/schedule/import', '/settings',
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});

function sizes(path) {
  const raw = statSync(siteRoot + path).size;
  const compressed = `${siteRoot}${path}.br`;
  return { raw, br: existsSync(compressed) ? statSync(compressed).size : raw };
}

// A signed-in page (or not, for /login) that records the /pkg scripts and WASM it fetches.
async function openPage(signedIn) {
  const context = await browser.newContext();
  if (signedIn) await context.addCookies([{ name: 'dda_session', value: cookie, url: base }]);
  const page = await context.newPage();
  const fetched = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/pkg/') && /\.(wasm|js)$/.test(pathname)) fetched.push(pathname);
  });
  return { context, page, fetched };
}

async function settle(page) {
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 30000 });
  await page.waitForLoadState('networkidle');
}

function total(paths) {
  const unique = [...new Set(paths)];
  return unique.reduce(
    (sum, path) => {
      const { raw, br } = sizes(path);
      return { files: sum.files + 1, raw: sum.raw + raw, br: sum.br + br };
    },
    { files: 0, raw: 0, br: 0 },
  );
}

const kb = (bytes) => (bytes / 1000).toFixed(1);

console.log('| route | files | brotli (KB) | raw (KB) | within 250 KB |');
console.log('|---|---|---|---|---|');
for (const route of ROUTES) {
  const { context, page, fetched } = await openPage(route !== '/login');
  await page.goto(base + route);
  await settle(page);
  const { files, raw, br } = total(fetched);
  console.log(`| ${route} | ${files} | ${kb(br)} | ${kb(raw)} | ${br <= 250_000 ? 'yes' : '**no**'} |`);
  await context.close();
}

// In the app: from / to every route by its link, then every route again. The second round
// must fetch nothing (each chunk is loaded once).
const { context, page, fetched } = await openPage(true);
await page.goto(`${base}/`);
await settle(page);
const rounds = [];
for (const round of [1, 2]) {
  const before = fetched.length;
  for (const route of ROUTES.filter((r) => r !== '/login' && r !== '/account/password')) {
    await page.evaluate((href) => {
      const link = document.createElement('a');
      link.href = href;
      document.body.append(link);
      link.click();
      link.remove();
    }, route);
    await page.waitForURL(base + route);
    await page.waitForLoadState('networkidle');
  }
  rounds.push(total(fetched.slice(before)));
}
await context.close();
await browser.close();
console.log();
console.log('| navigating in the app, from / through every route | files | brotli (KB) |');
console.log('|---|---|---|');
console.log(`| first round | ${rounds[0].files} | ${kb(rounds[0].br)} |`);
console.log(`| second round (must be nothing) | ${rounds[1].files} | ${kb(rounds[1].br)} |`);
