// Accounts in a real browser: the first-run admin must change the default password before
// anything else, admins manage users, members see only their own things, and the login
// form explains failures without revealing who exists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, signIn } from './support.mjs';

let server;

before(async () => {
  // Development without ADMIN_PASSWORD: the original's admin/admin123, flagged.
  server = await startServer();
});

after(async () => {
  await server?.stop();
});

function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    // Refused server-function calls log their status; they are expected in these tests.
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) errors.push(message.text());
  });
  return errors;
}

async function hydrated(page) {
  await page.waitForSelector('.app[data-hydrated="true"]', { timeout: 20000 });
}

test('first-run admin changes admin123 before anything else', async (t) => {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(page);

  const response = await page.goto(`${server.url}/admin/users`);
  assert.match(page.url(), /\/login\?next=\/admin\/users$/);
  assert.equal(response.status(), 200);
  await hydrated(page);

  // A wrong password: a clear message and how many tries are left.
  await page.getByLabel('用户名').fill('admin');
  await page.getByLabel('密码', { exact: true }).fill('wrong-password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByTestId('login-error').getByText('用户名或密码错误，还可尝试 4 次').waitFor();

  await page.getByLabel('密码', { exact: true }).fill('admin123');
  await Promise.all([
    page.waitForURL(`${server.url}/account/password`, { timeout: 20000 }),
    page.getByRole('button', { name: '登录' }).click(),
  ]);
  await hydrated(page);
  await page.getByTestId('must-change-notice').waitFor();
  await page.getByTestId('default-password-banner').waitFor();
  await page.screenshot({ path: 'test-results/first-run-change-password.png', fullPage: true });

  // Anything else leads back here, by link and by address.
  await page.goto(`${server.url}/admin/users`);
  assert.equal(page.url(), `${server.url}/account/password`);

  await hydrated(page);
  await page.getByLabel('当前密码').fill('admin123');
  await page.getByLabel('新密码', { exact: true }).fill('admin123');
  await page.getByLabel('确认新密码').fill('admin123');
  await page.getByRole('button', { name: '修改密码' }).click();
  await page.getByText('过于常见').waitFor();

  await page.getByLabel('新密码', { exact: true }).fill('first-real-passphrase');
  await page.getByLabel('确认新密码').fill('first-real-passphrase');
  await page.getByRole('button', { name: '修改密码' }).click();
  await page.getByTestId('password-changed').waitFor({ timeout: 20000 });
  await hydrated(page);
  assert.equal(await page.getByTestId('default-password-banner').count(), 0);
  assert.equal(await page.getByTestId('must-change-notice').count(), 0);

  await page.getByRole('link', { name: '用户管理' }).click();
  await page.waitForURL(`${server.url}/admin/users`);
  await page.getByTestId('user-row').first().waitFor();
  assert.deepEqual(errors, []);
});

test('an admin creates, finds and deactivates a member; the member sees only their own pages', async (t) => {
  const adminBrowser = await launchBrowser();
  t.after(() => adminBrowser.close());
  const page = await adminBrowser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(page);
  await signIn(page, server.url, 'admin', 'first-real-passphrase');
  await page.goto(`${server.url}/admin/users`);
  await hydrated(page);

  await page.getByRole('button', { name: '新建用户' }).click();
  const form = page.getByTestId('user-form');
  await form.getByLabel('用户名').fill('zhangsan');
  await form.getByLabel('显示名称').fill('<b>张三</b>');
  await form.getByLabel('初始密码').fill('short');
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('密码：至少 8 个字符').waitFor();
  await form.getByLabel('初始密码').fill('zhangsan-initial-1');
  await form.getByLabel('手机号').fill('138 0013 8000');
  await form.getByRole('button', { name: '保存' }).click();
  await form.waitFor({ state: 'detached', timeout: 10000 });

  await page.getByLabel('搜索').fill('zhang');
  const row = page.getByTestId('user-row').filter({ hasText: 'zhangsan' });
  await row.waitFor();
  // Shown as text, never as markup.
  assert.equal(await row.locator('b').count(), 0);
  assert.match(await row.textContent(), /<b>张三<\/b>/);
  assert.match(await row.textContent(), /13800138000/);
  await page.getByRole('button', { name: '下一页', exact: true }).waitFor();
  await page.screenshot({ path: 'test-results/admin-users.png', fullPage: true });

  // The member signs in elsewhere: must change the initial password, then sees no admin pages.
  const memberBrowser = await launchBrowser();
  t.after(() => memberBrowser.close());
  const member = await memberBrowser.newPage({ viewport: { width: 375, height: 740 } });
  await member.goto(`${server.url}/login`);
  await hydrated(member);
  await member.getByLabel('用户名').fill('ZhangSan');
  await member.getByLabel('密码', { exact: true }).fill('zhangsan-initial-1');
  await Promise.all([
    member.waitForURL(`${server.url}/account/password`, { timeout: 20000 }),
    member.getByRole('button', { name: '登录' }).click(),
  ]);
  await hydrated(member);
  await member.getByLabel('当前密码').fill('zhangsan-initial-1');
  await member.getByLabel('新密码', { exact: true }).fill('zhangsan-own-pass');
  await member.getByLabel('确认新密码').fill('zhangsan-own-pass');
  await member.getByRole('button', { name: '修改密码' }).click();
  await member.getByTestId('password-changed').waitFor({ timeout: 20000 });
  await hydrated(member);
  await member.locator('.menu-toggle').click();
  await member.locator('#main-nav').getByText('个人资料').waitFor();
  assert.equal(await member.locator('#main-nav').getByText('用户管理').count(), 0);
  const overflow = await member.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await member.screenshot({ path: 'test-results/member-phone-menu.png', fullPage: true });

  // Typing the admin address gives the refusal, not the data.
  await member.goto(`${server.url}/admin/users`);
  await hydrated(member);
  await member.getByText('没有权限执行此操作').waitFor();
  assert.equal(await member.getByTestId('user-row').count(), 0);

  // The profile page edits their own data.
  await member.goto(`${server.url}/account/profile`);
  await hydrated(member);
  const profile = member.getByTestId('profile-form');
  await profile.getByLabel('显示名称').fill('张三丰');
  await profile.getByLabel('邮箱').fill('zhangsan@localhost');
  await profile.getByRole('button', { name: '保存' }).click();
  await profile.getByText('邮箱：不是有效的邮箱地址').waitFor();
  await profile.getByLabel('邮箱').fill('zhangsan@example.com');
  await profile.getByRole('button', { name: '保存' }).click();
  await profile.getByText('已保存').waitFor();

  // A personal access token: created on the profile page, shown once, usable, revocable.
  const tokens = member.getByTestId('access-tokens');
  await tokens.getByLabel('名称').fill('考勤脚本');
  await tokens.getByLabel('权限').selectOption('read');
  await tokens.getByRole('button', { name: '创建令牌' }).click();
  const token = (await tokens.getByTestId('new-token').textContent()).trim();
  assert.match(token, /^dda_pat_[A-Za-z0-9_-]{43}$/);
  const asScript = { headers: { Authorization: `Bearer ${token}` } };
  const me = await fetch(`${server.url}/api/v1/me`, asScript);
  assert.equal(me.status, 200);
  assert.match((await me.json()).username, /zhangsan/i);
  const tokenRow = tokens.getByTestId('token-table').locator('tbody tr').filter({ hasText: '考勤脚本' });
  await tokenRow.getByText('只读').waitFor();
  assert.ok(!(await tokens.getByTestId('token-table').textContent()).includes(token), 'the list never shows the token');
  await tokenRow.getByRole('button', { name: '吊销' }).click();
  await tokens.getByText('还没有令牌。').waitFor();
  assert.equal((await fetch(`${server.url}/api/v1/me`, asScript)).status, 401);

  // The admin deactivates the member, who is signed out at once.
  await page.goto(`${server.url}/admin/users`);
  await hydrated(page);
  await page.getByLabel('搜索').fill('zhang');
  const memberRow = page.getByTestId('user-row').filter({ hasText: 'zhangsan' });
  await memberRow.getByRole('button', { name: '停用' }).click();
  await memberRow.getByText('已停用').waitFor();
  await member.goto(`${server.url}/account/profile`);
  assert.match(member.url(), /\/login\?next=/);

  // The audit log shows what happened.
  await page.goto(`${server.url}/admin/audit`);
  await hydrated(page);
  await page.getByTestId('audit-row').filter({ hasText: '停用用户' }).first().waitFor();
  await page.getByTestId('audit-row').filter({ hasText: '登录失败' }).first().waitFor();
  await page.screenshot({ path: 'test-results/audit-log.png', fullPage: true });

  assert.deepEqual(errors, []);
});
