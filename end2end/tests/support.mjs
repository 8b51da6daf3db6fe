// Starts the real server binary on a free port with a temporary database, and Debian's
// Chromium with the flags this machine needs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');

export const serverBinary = process.env.SERVER_BIN || join(targetDir, 'debug', 'dingding-attendance');
export const siteRoot = process.env.SITE_ROOT || join(root, 'target', 'site');

function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dda-e2e-'));
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    APP_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    SITE_ROOT: siteRoot,
    ...extraEnv,
  };
  // `PUBLIC_URL: '@self'`: the address this server gets (the links in reminders point to it).
  if (env.PUBLIC_URL === '@self') env.PUBLIC_URL = `http://127.0.0.1:${port}`;
  const child = spawn(serverBinary, ['serve'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`server not healthy in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => output,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 40000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A REST client holding a bearer token: `api(method, path, body)` answers
// `{ status, body }` with the body parsed from JSON (null when empty).
export function apiClient(server, token) {
  return async function api(method, path, body) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

// Signs in through the login form, as a person would, and waits for the page it leads to.
export async function signIn(page, url, username, password) {
  await page.goto(`${url}/login`);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL((target) => !target.pathname.startsWith('/login'), { timeout: 20000 }),
    page.getByRole('button', { name: '登录' }).click(),
  ]);
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
}

export async function launchBrowser() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'dda-chromium-'));
  mkdirSync('test-results', { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  return {
    async newPage({ viewport }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
