// The deployment files, checked without a Docker engine (none on the dev/CI machines): the compose
// file read by a real YAML parser and held against what the code expects — Temporal's current
// images, the search attributes of common/temporal.ts, environment variables the code actually
// reads, ports that meet, the secrets the demo plan's aliases need, the codec endpoint the UI uses —
// and the Dockerfile's build, non-root user and healthcheck.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../common/temporal';

const ROOT = path.resolve(__dirname, '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  deploy?: { replicas?: number };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; secrets: Record<string, { file: string }> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const text = (c: Service['command']) => (Array.isArray(c) ? c.join(' ') : (c ?? ''));
const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: u.port };
};
/** The container port a service publishes or exposes. */
const published = (s: Service) => [...(s.ports ?? []).map((p) => p.split(':').pop()!), ...(s.expose ?? [])];

/** Environment variable names the project's code reads (process.env.X, env.X, env[X] constants). */
function envNamesRead(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/\b(?:process\.)?env(?:\.|\[')([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
    }
  };
  for (const d of ['activities', 'client', 'common', 'worker', 'workflows', 'plan']) walk(path.join(ROOT, d));
  // Read through a constant rather than literally (payload encryption, another change: until it is
  // in, its variable is not held against the code).
  const codec = path.join(ROOT, 'common', 'codec.ts');
  if (existsSync(codec)) for (const m of readFileSync(codec, 'utf8').matchAll(/'(CUTOVER_[A-Z_]+)'/g)) names.add(m[1]);
  else names.add('CUTOVER_CODEC_KEYS');
  return names;
}

test('Temporal: current images, PostgreSQL persistence with the schema set up by admin-tools, no auto-setup', () => {
  for (const s of Object.values(compose.services)) expect(s.image ?? '').not.toMatch(/auto-setup/);
  expect(svc('temporal').image).toMatch(/^temporalio\/server:/);
  expect(svc('temporal').environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  expect(svc('temporal').ports).toContain('7233:7233');
  expect(svc('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
  expect(text(svc('temporal-schema').command)).toMatch(/temporal-sql-tool[\s\S]*setup-schema[\s\S]*update-schema/);
  expect(svc('temporal').depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
  expect(svc('postgresql').image).toMatch(/^postgres:/);
});

test("cutover's search attributes are registered at start-up under the names the code uses", () => {
  const ns = svc('temporal-namespace');
  expect(ns.image).toMatch(/^temporalio\/admin-tools:/);
  const cmd = text(ns.command);
  expect(cmd).toContain('temporal operator search-attribute create');
  for (const name of Object.values(SEARCH_ATTRIBUTES)) expect(cmd).toMatch(new RegExp(`\\b${name}\\b`));
  // The type must be Keyword (the workflow upserts strings; defineSearchAttributeKey(…, KEYWORD)).
  expect(cmd).toContain('--type Keyword');
  expect(svc('cutover-worker').depends_on?.['temporal-namespace']?.condition).toBe('service_completed_successfully');
});

test('the Web UI decodes payloads through the codec server, which the compose file runs as `cutover codec-server`', () => {
  const ui = svc('temporal-ui');
  expect(ui.image).toMatch(/^temporalio\/ui:/);
  const codec = svc('cutover-codec');
  const args = Array.isArray(codec.command) ? codec.command : [];
  expect(args[0]).toBe('codec-server');
  const port = args[args.indexOf('--port') + 1];
  expect(port).toMatch(/^\d+$/);
  expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0'); // reachable through the published port
  expect(codec.ports).toContain(`${port}:${port}`);
  // The browser calls the endpoint: it is the host's published port, and CORS allows the UI's origin.
  const endpoint = hostPort(ui.environment!.TEMPORAL_CODEC_ENDPOINT);
  expect(endpoint).toEqual({ host: 'localhost', port });
  const uiOrigin = `http://localhost:${ui.ports![0].split(':')[0]}`;
  expect(args[args.indexOf('--allow-origin') + 1]).toBe(uiOrigin);
  expect(codec.environment?.CUTOVER_CODEC_KEYS).toMatch(/CUTOVER_CODEC_KEYS/);
  expect(codec.build).toBe('.');
});

// The codec server itself is another change (`cutover codec-server`); once it is in, the flags used above must exist.
const main = read('client/main.ts');
(/command\('codec-server'\)/.test(main) ? test : test.skip)('the codec-server flags used in the compose file exist in the CLI', () => {
  for (const flag of ['--port', '--host', '--allow-origin']) expect(main).toContain(`'${flag} `);
});

test('the worker: built from the Dockerfile, env it reads, Temporal and S3 addresses that meet, two replicas', () => {
  const w = svc('cutover-worker');
  expect(w.build).toBe('.');
  expect(text(w.command)).toBe('worker');
  expect(w.deploy?.replicas).toBeGreaterThanOrEqual(2);
  const env = w.environment!;
  const known = envNamesRead();
  for (const name of Object.keys(env)) expect({ name, readByCode: known.has(name) }).toEqual({ name, readByCode: true });
  // Temporal: the frontend service and the port it publishes.
  const [tHost, tPort] = env.TEMPORAL_ADDRESS.split(':');
  expect(compose.services[tHost]).toBeDefined();
  expect(published(svc(tHost))).toContain(tPort);
  // Backups: the SeaweedFS S3 port, and the bucket the demo plan names is created at start-up.
  const s3 = hostPort(env.AWS_ENDPOINT_URL_S3);
  expect(text(svc(s3.host).command)).toContain(`-s3.port=${s3.port}`);
  expect(env.AWS_ACCESS_KEY_ID).toBeTruthy();
  expect(env.AWS_SECRET_ACCESS_KEY).toBeTruthy();
  const bucket = /store:\s*s3:\/\/([^/\s]+)/.exec(read('demo/plan.yaml'))![1];
  expect(text(svc('seaweedfs-bucket').command)).toContain(`s3.bucket.create -name ${bucket}`);
  expect(w.depends_on?.['seaweedfs-bucket']?.condition).toBe('service_completed_successfully');
  // Metrics: the port the worker binds is the one its healthcheck scrapes and the one it exposes.
  const metricsPort = env.CUTOVER_METRICS_ADDRESS.split(':')[1];
  expect(w.expose).toContain(metricsPort);
  expect(w.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${metricsPort}/metrics`);
  expect(env.CUTOVER_LOG_FORMAT).toBe('json');
  expect(TASK_QUEUE).toBe('cutover'); // the replicas share this queue
});

test("the demo plan's aliases resolve in the worker: one secret file each, a postgres URL to a demo database service", () => {
  const w = svc('cutover-worker');
  expect(w.environment!.CUTOVER_SECRETS_DIR).toBe('/run/secrets'); // where compose mounts secrets
  const plan = read('demo/plan.yaml');
  const aliases = ['source', 'target'].map((k) => new RegExp(`^${k}:\\s*(\\S+)`, 'm').exec(plan)![1]);
  expect(aliases).toEqual(['pilot', 'production']);
  for (const alias of aliases) {
    expect(w.secrets).toContain(alias);
    const url = new URL(read(compose.secrets[alias].file).trim());
    expect(url.protocol).toBe('postgres:');
    const db = svc(url.hostname);
    expect(db.image).toMatch(/^postgres:/);
    expect(db.environment).toMatchObject({
      POSTGRES_USER: url.username,
      POSTGRES_PASSWORD: url.password,
      POSTGRES_DB: url.pathname.slice(1),
    });
    expect(w.depends_on?.[url.hostname]?.condition).toBe('service_healthy');
    // Loaded with the demo's schema and data.
    expect(db.volumes!.some((v) => v.startsWith('./demo/schema.sql:/docker-entrypoint-initdb.d/'))).toBe(true);
  }
});

test('the Dockerfile: npm ci and build, the PostgreSQL client tools, a non-root user, a healthcheck on the metrics port', () => {
  const df = read('Dockerfile');
  const lines = df.split('\n').filter((l) => !l.trim().startsWith('#'));
  const last = (re: RegExp) => lines.filter((l) => re.test(l)).pop() ?? '';
  expect(df).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim/m);
  expect(df).toMatch(/ARG NODE_VERSION=20\b/);
  expect(df).toContain('RUN npm ci');
  expect(df).toContain('npm run build');
  expect(df).toMatch(/postgresql-client-\$\{PG_CLIENT_VERSION\}/);
  const user = last(/^USER\s+/)
    .replace(/^USER\s+/, '')
    .trim();
  expect(user).not.toBe('');
  expect(['root', '0', '0:0']).not.toContain(user);
  const env = Object.fromEntries([...df.matchAll(/\b(CUTOVER_[A-Z_]+|TEMPORAL_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const metricsPort = env.CUTOVER_METRICS_ADDRESS.split(':')[1];
  expect(df).toMatch(new RegExp(`HEALTHCHECK[\\s\\S]*127\\.0\\.0\\.1:${metricsPort}/metrics`));
  expect(df).toMatch(new RegExp(`EXPOSE ${metricsPort}`));
  expect(last(/^ENTRYPOINT/)).toContain('bin/cutover.js');
  const known = envNamesRead();
  for (const name of Object.keys(env)) expect({ name, readByCode: known.has(name) }).toEqual({ name, readByCode: true });
  // What the build needs is in the context; what it must not copy is ignored.
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim());
  for (const p of ['node_modules', 'dist', '.tools', '.data']) expect(ignored).toContain(p);
});

test('the operating guide says the compose stack is untested here', () => {
  const guide = read('docs/operating.md');
  expect(guide).toContain('docker-compose.yml');
  expect(guide).toMatch(/compose stack is untested here/i);
});
