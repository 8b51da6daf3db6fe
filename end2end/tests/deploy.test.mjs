// The shipping files agree with each other: Dockerfile, docker-compose.yml,
// docker-compose.build.yml, the two GitHub workflows, deploy-from-image.sh / docker-start.sh
// and .env.example. Static: no Docker engine, no server, no browser.
//   cd end2end && node --test tests/deploy.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path) => readFileSync(join(root, path), 'utf8');

const IMAGE_NAME = 'dingding-attendance-system';
const BINARY = '/app/dingding-attendance';
const VOLUMES = ['/app/data', '/app/logs', '/app/uploads'];

function yamlFile(path) {
  const doc = parseDocument(read(path), { uniqueKeys: true, prettyErrors: true });
  assert.deepEqual(doc.errors.map(String), [], `${path} is not valid YAML`);
  assert.deepEqual(doc.warnings.map(String), [], `${path} has YAML warnings`);
  return doc.toJS();
}

// Dockerfile instructions with continuation lines joined and comments dropped.
function dockerfile() {
  const instructions = [];
  let pending = '';
  for (const raw of read('Dockerfile').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || (!pending && !line.trim())) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = full.match(/^(\w+)\s+([\s\S]*)$/);
    assert.ok(match, `cannot parse Dockerfile line: ${full}`);
    instructions.push({ op: match[1].toUpperCase(), args: match[2].trim() });
  }
  const stages = [];
  for (const instruction of instructions) {
    if (instruction.op === 'FROM') stages.push({ from: instruction.args, instructions: [] });
    else if (stages.length) stages.at(-1).instructions.push(instruction);
  }
  const args = {};
  for (const { op, args: value } of instructions) {
    const arg = op === 'ARG' && value.match(/^(\w+)=(\S+)$/);
    if (arg) args[arg[1]] = arg[2];
  }
  const expand = (text) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
  return { instructions, stages, runtime: stages.at(-1), args, expand };
}

const envPairs = (text) =>
  Object.fromEntries(
    [...text.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, key, value]) => [key, value.replace(/^"|"$/g, '')]),
  );

const compose = () => yamlFile('docker-compose.yml');
const web = () => compose().services.web;
const cargoOwner = () => {
  const match = read('Cargo.toml').match(/^repository\s*=\s*"https:\/\/github\.com\/([^/"]+)\//m);
  assert.ok(match, 'Cargo.toml has a github.com repository');
  return match[1].toLowerCase();
};
// Every NAME= (also commented-out examples such as "# DATABASE_URL=...") in .env.example.
const envExampleNames = () => [
  ...new Set([...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1])),
];
const steps = (workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
const stepUsing = (workflow, action) => steps(workflow).find((step) => step.uses?.startsWith(`${action}@`));

test('all four YAML files parse', () => {
  for (const path of [
    'docker-compose.yml',
    'docker-compose.build.yml',
    '.github/workflows/ci.yml',
    '.github/workflows/docker-build.yml',
  ]) {
    yamlFile(path);
  }
});

test('compose pulls ghcr.io/<lowercase owner>/dingding-attendance-system, owner defaulting to the repository owner', () => {
  const match = web().image.match(/^ghcr\.io\/\$\{GHCR_OWNER:-([^}]*)\}\/([^:]+):\$\{TAG:-latest\}$/);
  assert.ok(match, `unexpected image: ${web().image}`);
  const [, defaultOwner, name] = match;
  assert.equal(name, IMAGE_NAME);
  assert.match(defaultOwner, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'registry owners are lowercase');
  assert.equal(defaultOwner, cargoOwner(), "default owner = Cargo.toml's repository owner");
});

test('the workflow pushes the image name compose pulls, owner lowercased', () => {
  const workflow = yamlFile('.github/workflows/docker-build.yml');
  const naming = steps(workflow).find((step) => /\bIMAGE=/.test(step.run ?? ''));
  assert.ok(naming, 'a step writes IMAGE=... to $GITHUB_ENV');
  assert.match(naming.run, /IMAGE=ghcr\.io\/\$\{OWNER,,\}\/dingding-attendance-system"?\s*>>\s*"?\$GITHUB_ENV/);
  assert.equal(naming.env.OWNER, '${{ github.repository_owner }}');
  assert.notEqual(naming.shell, 'sh', '${OWNER,,} needs bash');
  // What ${OWNER,,} does in bash, applied to a mixed-case owner: the result is a name compose
  // can pull with GHCR_OWNER set to the same owner in lowercase.
  const pushed = naming.run
    .match(/IMAGE=(\S+?)"?\s*>>/)[1]
    .replace('${OWNER,,}', 'Some-Org'.toLowerCase());
  const pulled = web().image.replace(/\$\{GHCR_OWNER:-[^}]*\}/, 'some-org').replace(/:\$\{TAG:-latest\}$/, '');
  assert.equal(pushed, pulled);
  assert.equal(stepUsing(workflow, 'docker/metadata-action').with.images, '${{ env.IMAGE }}');
});

test('docker-build.yml follows the issue: triggers, permissions, QEMU/Buildx, GHCR login, tags, platforms, push, cache', () => {
  const workflow = yamlFile('.github/workflows/docker-build.yml');
  assert.deepEqual(workflow.on.push.branches, ['main', 'develop']);
  assert.deepEqual(workflow.on.push.tags, ['v*']);
  assert.deepEqual(workflow.on.pull_request.branches, ['main']);
  assert.deepEqual(workflow.permissions, { contents: 'read', packages: 'write' });
  assert.ok(stepUsing(workflow, 'docker/setup-qemu-action'));
  assert.ok(stepUsing(workflow, 'docker/setup-buildx-action'));
  const login = stepUsing(workflow, 'docker/login-action');
  assert.equal(login.with.registry, 'ghcr.io');
  assert.equal(login.with.password, '${{ secrets.GITHUB_TOKEN }}');
  const tags = stepUsing(workflow, 'docker/metadata-action').with.tags;
  for (const rule of ['type=ref,event=branch', 'type=semver,pattern={{version}}', 'type=sha']) {
    assert.ok(tags.includes(rule), `metadata tag rule ${rule}`);
  }
  assert.match(tags, /type=raw,value=latest,enable=\{\{is_default_branch\}\}/);
  const build = stepUsing(workflow, 'docker/build-push-action').with;
  assert.deepEqual(build.platforms.split(',').map((p) => p.trim()).sort(), ['linux/amd64', 'linux/arm64']);
  assert.equal(build.push, "${{ github.event_name != 'pull_request' }}");
  assert.match(build['cache-from'], /^type=gha\b/);
  assert.match(build['cache-to'], /^type=gha\b/);
  assert.equal(build.context, '.');
});

test('port 5000 everywhere: compose mapping and container env, Dockerfile EXPOSE and ENV', () => {
  const service = web();
  assert.deepEqual(service.ports, ['${PORT:-5000}:5000']);
  assert.equal(String(service.environment.PORT), '5000');
  assert.equal(service.environment.HOST, '0.0.0.0');
  const { runtime } = dockerfile();
  const exposed = runtime.instructions.filter((i) => i.op === 'EXPOSE').map((i) => i.args);
  assert.deepEqual(exposed, ['5000']);
  const env = Object.assign({}, ...runtime.instructions.filter((i) => i.op === 'ENV').map((i) => envPairs(i.args)));
  assert.equal(env.PORT, '5000');
  assert.equal(env.HOST, '0.0.0.0');
});

test('volumes /app/data /app/logs /app/uploads: compose mounts, Dockerfile VOLUME/ENV, deploy script dirs', () => {
  const service = web();
  assert.deepEqual(service.volumes, ['./data:/app/data', './logs:/app/logs', './uploads:/app/uploads']);
  assert.equal(service.environment.DATA_DIR, '/app/data');
  assert.equal(service.environment.LOG_DIR, '/app/logs');
  assert.equal(service.environment.UPLOAD_DIR, '/app/uploads');
  const { runtime } = dockerfile();
  const volume = runtime.instructions.find((i) => i.op === 'VOLUME');
  assert.ok(volume, 'Dockerfile declares VOLUME');
  assert.deepEqual(JSON.parse(volume.args), VOLUMES);
  const env = Object.assign({}, ...runtime.instructions.filter((i) => i.op === 'ENV').map((i) => envPairs(i.args)));
  assert.deepEqual([env.DATA_DIR, env.LOG_DIR, env.UPLOAD_DIR], VOLUMES);
  assert.equal(env.SITE_ROOT, '/app/site');
  assert.equal(env.TZ, 'Asia/Shanghai');
  assert.equal(env.TIMEZONE, undefined, 'TIMEZONE is left to the deployment');
  const owned = runtime.instructions.find((i) => i.op === 'RUN' && i.args.includes('chown'));
  for (const dir of VOLUMES) assert.ok(owned?.args.includes(dir), `${dir} is chowned to the app user`);
  assert.match(read('deploy-from-image.sh'), /^readonly DIRS=\(data logs uploads\)$/m);
});

test('every variable of .env.example reaches the container through compose', () => {
  const service = web();
  assert.deepEqual(service.env_file, ['.env']);
  const fixed = { HOST: '0.0.0.0', PORT: '5000', DATA_DIR: '/app/data', LOG_DIR: '/app/logs', UPLOAD_DIR: '/app/uploads' };
  const names = envExampleNames();
  for (const name of ['SECRET_KEY', 'DATABASE_URL', 'API_TOKEN', 'CHECK_URL', 'WORKING_URL', 'NO_WORK_URL', 'REMINDER_ENABLED', 'WORK_OVERTIME', 'TIMEZONE']) {
    assert.ok(names.includes(name), `.env.example documents the original's ${name}`);
  }
  for (const name of names) {
    assert.ok(Object.hasOwn(service.environment, name), `compose environment passes ${name}`);
    const value = String(service.environment[name]);
    if (name in fixed) assert.equal(value, fixed[name], `${name} is the container-side value`);
    else assert.match(value, new RegExp(`^\\$\\{${name}(:?-[^}]*)?\\}$`), `${name} is read from .env`);
  }
});

test('Dockerfile: multi-stage cross build, non-root user, binary HEALTHCHECK, exec-form ENTRYPOINT', () => {
  const { stages, runtime, args, expand } = dockerfile();
  const builders = stages.slice(0, -1);
  assert.ok(builders.length >= 2, 'builder stages before the runtime stage');
  // Every builder runs on the build platform: directly, or FROM a stage that does.
  const onBuildPlatform = new Set();
  for (const stage of builders) {
    const [base, name] = stage.from.replace(/^--platform=\S+\s+/, '').split(/\s+AS\s+/i);
    assert.ok(
      /^--platform=\$BUILDPLATFORM\s/.test(stage.from) || onBuildPlatform.has(base),
      `builder stage runs on the build platform, not under QEMU: FROM ${stage.from}`,
    );
    onBuildPlatform.add(name);
  }
  assert.match(expand(runtime.from), /^debian:[a-z]+-slim AS runtime$/);
  const server = stages.find((s) => / AS server$/.test(s.from));
  assert.ok(server.instructions.some((i) => i.op === 'ARG' && i.args === 'TARGETARCH'));
  assert.ok(server.instructions.some((i) => i.op === 'RUN' && /scripts\/build-server\.sh "?\$\{?TARGETARCH/.test(i.args)));
  const site = stages.find((s) => / AS site$/.test(s.from));
  assert.ok(!site.instructions.some((i) => /TARGETARCH/.test(i.args)), 'the site is built once, for all architectures');
  assert.ok(site.instructions.some((i) => i.op === 'RUN' && i.args.includes('cargo leptos build --release --precompress')));
  assert.ok(stages.some((s) => s.instructions.some((i) => /cargo chef cook/.test(i.args))), 'dependency layer (cargo-chef)');

  const users = runtime.instructions.filter((i) => i.op === 'USER');
  assert.ok(users.length, 'runtime stage sets USER');
  const user = expand(users.at(-1).args);
  assert.match(user, /^\d+:\d+$/);
  assert.ok(!/^(0|root)(:|$)/.test(user), `USER ${user} is not root`);
  assert.match(read('deploy-from-image.sh'), new RegExp(`^APP_UID=${args.APP_UID}$`, 'm'), 'deploy script uid = image uid');
  assert.match(read('deploy-from-image.sh'), new RegExp(`^APP_GID=${args.APP_GID}$`, 'm'), 'deploy script gid = image gid');

  const healthcheck = runtime.instructions.find((i) => i.op === 'HEALTHCHECK');
  const probe = JSON.parse(healthcheck.args.match(/CMD\s+(\[.*\])$/)[1]);
  assert.deepEqual(probe, [BINARY, 'healthcheck']);
  assert.deepEqual(web().healthcheck.test, ['CMD', ...probe], 'compose runs the same probe');

  const entrypoint = runtime.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1);
  assert.deepEqual(JSON.parse(entrypoint.args), [BINARY], 'exec form, so SIGTERM reaches the server');
  assert.deepEqual(JSON.parse(runtime.instructions.filter((i) => i.op === 'CMD').at(-1).args), ['serve']);
  const copies = runtime.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
  assert.ok(copies.some((c) => c.endsWith(` ${BINARY}`)));
  assert.ok(copies.some((c) => c.endsWith(' /app/site')));
});

test('building from source: docker-compose.build.yml and docker-start.sh', () => {
  const override = yamlFile('docker-compose.build.yml').services.web;
  assert.equal(override.build.context, '.');
  assert.equal(override.build.dockerfile, 'Dockerfile');
  assert.ok(override.image.includes(IMAGE_NAME));
  assert.ok(!override.image.startsWith('ghcr.io/'), 'a local build never takes the published name');
  assert.match(read('docker-start.sh'), /deploy-from-image\.sh" --build/);
  assert.match(read('deploy-from-image.sh'), /-f docker-compose\.yml -f docker-compose\.build\.yml/);
});

test('deploy script: same service and image as compose, polls health, compose v2 then v1', () => {
  const script = read('deploy-from-image.sh');
  assert.match(script, /^readonly SERVICE=web$/m);
  assert.deepEqual(Object.keys(compose().services), ['web']);
  // It takes the image from `compose config`, so any ghcr.io name it mentions must be compose's.
  for (const [name] of script.matchAll(/ghcr\.io\/[\w${}.:/-]+/g)) {
    assert.ok(name === 'ghcr.io' || name.includes(IMAGE_NAME) || !name.includes('/'), name);
  }
  assert.match(script, /\{\{\.State\.Health\.Status\}\}/);
  assert.match(script, /docker compose version/);
  assert.match(script, /docker-compose version/);
  assert.ok(script.indexOf('docker compose version') < script.indexOf('docker-compose version'), 'v2 first');
  assert.doesNotMatch(script, /sleep\s+[1-9][0-9]+/, 'no fixed long sleep');
});

test('.dockerignore keeps build output, VCS and local data out, but not app/data', () => {
  const patterns = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const required of ['target/', '.git', 'data/', 'logs/', 'uploads/', '.env', 'end2end/node_modules/']) {
    assert.ok(patterns.includes(required), `.dockerignore lists ${required}`);
  }
  assert.ok(!patterns.some((p) => /^(\*\*\/)data\/?$/.test(p)), 'app/data (compiled-in holiday tables) stays in the context');
  assert.ok(!patterns.some((p) => /^(scripts|app|server|frontend|migration|style|public)\/?$/.test(p)));
});

test('ci.yml: push and pull_request; fmt, clippy -D warnings, tests with browser, dependency audit, caching', () => {
  const workflow = yamlFile('.github/workflows/ci.yml');
  assert.ok(workflow.on.push && 'pull_request' in workflow.on);
  const runs = steps(workflow).map((step) => step.run ?? '').join('\n');
  assert.match(runs, /cargo fmt --all -- --check/);
  assert.match(runs, /^make lint$/m);
  const lint = read('Makefile').match(/^lint:.*\n((?:\t.*\n)+)/m)[1];
  assert.match(lint, /cargo clippy .* -D warnings/);
  assert.match(runs, /^bash \.ci\/run$/m, 'the README test command, browser tests included');
  assert.match(read('Makefile'), /^test:.*\btest-browser\b/m);
  assert.ok(stepUsing(workflow, 'EmbarkStudios/cargo-deny-action'), 'cargo-deny audit');
  assert.match(read('deny.toml'), /^\[advisories\]/m);
  assert.ok(stepUsing(workflow, 'actions/cache'), 'caching');
  assert.match(runs, /scripts\/check-deploy\.sh/);
  assert.match(runs, /node --test tests\/deploy\.test\.mjs/);
});
