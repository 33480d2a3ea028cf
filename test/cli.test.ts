import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { PACKAGE_ROOT } from '../src/paths.js'
import { signJwt } from '../src/auth/jwt.js'
import { KEYS, SOURCE_CLI } from './support/app.js'

// These tests run the CLI as a user would, over real HTTP: from its sources (SOURCE_CLI, whose
// coverage counts for src/); the last test runs the package's bin, the same code bundled into
// dist/cli.mjs (npm test builds first).
const BUNDLED_BIN = [join(PACKAGE_ROOT, 'dist', 'cli.mjs')]
let BIN: string[] = SOURCE_CLI

interface Running {
  child: ChildProcess
  url: string
  stdout: () => string
  exited: Promise<number | null>
}

function run(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...BIN, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'cwd-')),
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, out: () => out, err: () => err, exited }
}

async function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const r = run(['--port', '0', ...args], env)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${r.out()} ${r.err()}`)), 10_000)
    r.child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(r.out())
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    r.exited.then(() => reject(new Error(`exited: ${r.err()}`)))
  })
  return { child: r.child, url, stdout: r.out, exited: r.exited }
}

async function stop(t: Test, s: Running, signal: NodeJS.Signals = 'SIGTERM') {
  const began = Date.now()
  s.child.kill(signal)
  const code = await s.exited
  const ms = Date.now() - began
  t.equal(code, 0, `${signal}: exit code 0`)
  t.ok(ms < 2000, `${signal}: exited in ${ms} ms`)
}

const del = (url: string, body: object, key: string = KEYS.owner) =>
  fetch(`${url}/v1/ai_secret`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

t.test('started on port 0 from another directory: banner, real HTTP, docs, SIGTERM', async (t) => {
  const s = await start([], { LOG_LEVEL: 'info' })
  t.match(
    s.stdout(),
    /^ai-secret-mock listening on http:\/\/localhost:\d+\n/,
    'at the default log level the banner comes before any JSON log line',
  )
  t.match(s.url, /^http:\/\/localhost:\d+$/, 'printed as localhost: both loopback addresses are served')
  t.match(s.stdout(), /docs: +http:\/\/localhost:\d+\/docs/)
  t.match(s.stdout(), /seeded: +2 organizations, 3 users, 4 API keys, 2 AI secrets \(the demo seed\)\n/)
  t.match(s.stdout(), 'the demo keys are public')
  const port = new URL(s.url).port
  for (const host of ['127.0.0.1', '[::1]'])
    t.equal((await fetch(`http://${host}:${port}/_mock/health`)).status, 200, `${host} answers`)
  for (const k of Object.values(KEYS)) t.match(s.stdout(), k, `banner lists the demo key ${k} in full`)
  t.match(s.stdout(), /sk-mock-acme-member +val@acme\.test +all its orgs +member of acme \(read-only\)/)
  t.match(s.stdout(), /sk-mock-globex-only +bob@multi\.test +globex +owner of globex/)
  const first = await del(s.url, { name: 'OPENAI_API_KEY' })
  t.equal(first.status, 200)
  t.equal(((await first.json()) as { name: string }).name, 'OPENAI_API_KEY')
  const second = await del(s.url, { name: 'OPENAI_API_KEY' })
  t.equal(second.status, 400)
  t.match(await second.text(), /^Missing delete access to ai_secret OPENAI_API_KEY/)
  t.equal((await fetch(`${s.url}/_mock/health`)).status, 200)
  t.equal((await fetch(`${s.url}/docs`)).status, 200)
  t.equal((await fetch(`${s.url}/openapi.yaml`)).status, 200)
  await stop(t, s)
})

t.test('SIGINT, with an idle keep-alive connection open, still exits 0 at once', async (t) => {
  const s = await start([])
  const agent = new Agent({ keepAlive: true })
  await new Promise<void>((resolve) =>
    request(`${s.url}/_mock/health`, { agent }, (res) => {
      res.resume()
      res.on('end', resolve)
    }).end(),
  )
  await stop(t, s, 'SIGINT')
  agent.destroy()
})

t.test('a file database keeps a deletion across a restart, and is not seeded again', async (t) => {
  const db = join(mkdtempSync(join(tmpdir(), 'db-')), 'mock.db')
  const a = await start(['--db', db])
  t.equal((await del(a.url, { name: 'OPENAI_API_KEY' })).status, 200)
  await stop(t, a)
  const b = await start([], { DB_PATH: db })
  t.match(b.stdout(), /seed: +not applied/)
  t.equal((await del(b.url, { name: 'OPENAI_API_KEY' })).status, 400, 'still gone')
  t.equal(
    (await del(b.url, { name: 'OPENAI_API_KEY', org_name: 'globex' }, KEYS.multi)).status,
    200,
    'the rest is kept',
  )
  await stop(t, b)
})

t.test('a user seed file, by flag or SEED_FILE; --no-seed starts empty', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'))
  const file = join(dir, 'my-seed.json')
  writeFileSync(
    file,
    JSON.stringify({
      organizations: [{ name: 'initech' }],
      users: [{ email: 'peter@initech.test', memberships: { initech: 'owner' } }],
      api_keys: [{ key: 'sk-initech', user: 'peter@initech.test' }],
      ai_secrets: [{ org: 'initech', name: 'ANTHROPIC_API_KEY', type: 'anthropic', secret: 'sk-ant-xyz123456' }],
    }),
  )
  const s = await start([], { SEED_FILE: file })
  t.match(
    s.stdout(),
    `seeded:   1 organization, 1 user, 1 API key, 1 AI secret from ${file}\n`,
    'counts in the singular',
  )
  t.match(s.stdout(), /sk\.\.\.ch +peter@initech\.test/, "a user's key is shown as a preview")
  t.notMatch(s.stdout(), 'sk-initech', "a user's key is never printed in full")
  t.match(s.stdout(), 'previews only, the keys are in the seed file')
  t.notMatch(s.stdout(), 'sk-mock-acme-owner')
  const res = await del(s.url, { name: 'ANTHROPIC_API_KEY' }, 'sk-initech')
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { preview_secret: string }).preview_secret, 'sk-...456')
  await stop(t, s)
  const empty = await start(['--no-seed'])
  t.equal((await del(empty.url, { name: 'x' })).status, 401, 'no keys at all')
  await stop(t, empty)
})

t.test('JWT_SECRET reaches the app: a signed JWT authenticates its email', async (t) => {
  const s = await start([], { JWT_SECRET: 'cli-jwt-secret' })
  const token = signJwt({ email: 'val@acme.test' }, 'cli-jwt-secret')
  const res = await fetch(`${s.url}/v1/ai_secret`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(res.status, 200)
  t.equal(((await res.json()) as { objects: unknown[] }).objects.length, 1)
  await stop(t, s)
})

t.test('a bad seed file: one line naming file, path and problem; exit 1; never listens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'))
  const file = join(dir, 'bad.json')
  writeFileSync(
    file,
    JSON.stringify({ organizations: [{ name: 'a' }], users: [{ email: 'x@a', memberships: { b: 'owner' } }] }),
  )
  const r = run(['--port', '0', '--seed', file])
  t.equal(await r.exited, 1)
  t.equal(r.err(), `ai-secret-mock: seed file ${file}: $.users[0].memberships.b: unknown organization "b"\n`)
  t.notMatch(r.out(), 'listening')
  // On a new file database: the file it had begun is removed, nothing half-started is left.
  const dbDir = mkdtempSync(join(tmpdir(), 'db-'))
  const onFile = run(['--port', '0', '--seed', file, '--db', join(dbDir, 'new.db')])
  t.equal(await onFile.exited, 1)
  t.same(readdirSync(dbDir), [], 'no database file left')
})

t.test('bad configuration: one line, exit 2', async (t) => {
  const r = run(['--port', 'eighty'])
  t.equal(await r.exited, 2)
  t.equal(r.err(), 'ai-secret-mock: --port: must be a whole number from 0 to 65535, not "eighty"\n')
  const l = run([], { LOG_LEVEL: 'chatty' })
  t.equal(await l.exited, 2)
  t.match(l.err(), /^ai-secret-mock: LOG_LEVEL: must be one of/)
})

t.test('a port in use: one line, exit 1', async (t) => {
  const s = await start([])
  const r = run(['--port', new URL(s.url).port])
  t.equal(await r.exited, 1)
  t.match(r.err(), /^ai-secret-mock: cannot listen on (127\.0\.0\.1|\[::1\]):\d+: .*EADDRINUSE/)
  // HOST wins: one address, printed as it is.
  const only = await start([], { HOST: '127.0.0.1' })
  t.match(only.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  await t.rejects(fetch(`http://[::1]:${new URL(only.url).port}/_mock/health`), 'not on ::1')
  await stop(t, only)
  await stop(t, s)
})

t.test(
  'logs: JSON lines when stdout is not a terminal; pretty lines with LOG_FORMAT or --log-format; never a key or a ' +
    'secret',
  async (t) => {
    const cases: [string, string[], string[], Record<string, string>, boolean][] = [
      ['default (stdout is a pipe here)', SOURCE_CLI, [], {}, false],
      ['LOG_FORMAT=pretty', SOURCE_CLI, [], { LOG_FORMAT: 'pretty' }, true],
      [
        'the bundled bin, --log-format over LOG_FORMAT',
        BUNDLED_BIN,
        ['--log-format', 'pretty'],
        { LOG_FORMAT: 'json' },
        true,
      ],
    ]
    t.teardown(() => {
      BIN = SOURCE_CLI
    })
    for (const [label, bin, args, env, pretty] of cases) {
      BIN = bin
      const s = await start(args, { LOG_LEVEL: 'info', ...env })
      t.equal((await del(s.url, { name: 'OPENAI_API_KEY', secret: 'sk-live-in-body-000' })).status, 200)
      t.equal((await del(s.url, { name: 'OPENAI_API_KEY' }, 'sk-unknown-key-111')).status, 401)
      await stop(t, s)
      const logs = s
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{') || l.startsWith('['))
      t.ok(logs.length >= 4, `${label}: ${logs.length} log lines`)
      for (const secret of [
        ...Object.values(KEYS),
        'sk-unknown-key-111',
        'sk-live-in-body-000',
        'sk-proj-0123456789abcdef',
        'Bearer',
      ]) {
        t.notMatch(
          logs.join('\n'),
          secret,
          `${label}: no ${secret} in a log line (the banner lists the demo keys on purpose)`,
        )
      }
      if (pretty) {
        t.notOk(
          logs.some((l) => l.startsWith('{')),
          `${label}: no JSON line`,
        )
        t.match(
          s.stdout(),
          /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: DELETE \/v1\/ai_secret 200 [\d.]+ ms \(mock::[\w-]+\)$/m,
          `${label}: an answer, in one line`,
        )
        t.match(
          s.stdout(),
          /INFO: shutting down \{"signal":"SIGTERM"\}\n$/,
          `${label}: the last line is written before the exit`,
        )
      } else {
        for (const l of logs)
          t.match(JSON.parse(l), { level: Number, time: Number, msg: String }, `${label}: a JSON line`)
      }
    }
  },
)

t.test('--help and --version', async (t) => {
  const h = run(['--help'])
  t.equal(await h.exited, 0)
  t.match(h.out(), /^Usage: ai-secret-mock/)
  const v = run(['--version'])
  t.equal(await v.exited, 0)
  t.match(v.out(), /^\d+\.\d+\.\d+\n$/)
})

t.test("the package's bin, the bundled dist/cli.mjs, answers as the CLI does", async (t) => {
  BIN = BUNDLED_BIN
  t.teardown(() => {
    BIN = SOURCE_CLI
  })
  const s = await start([])
  t.match(s.stdout(), /sk-mock-acme-owner +alice@acme\.test/)
  t.equal((await del(s.url, { name: 'OPENAI_API_KEY' })).status, 200)
  t.equal((await del(s.url, { name: 'OPENAI_API_KEY' })).status, 400)
  t.equal((await fetch(`${s.url}/docs`)).status, 200, 'Swagger UI, served from outside the bundle')
  await stop(t, s)
})

/** A seed big enough to take seconds: `n` secrets in one organization. */
function bigSeedFile(n: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'big-seed-')), 'seed.json')
  writeFileSync(
    file,
    JSON.stringify({
      organizations: [{ name: 'big' }],
      users: [{ email: 'u@big.test', memberships: { big: 'owner' } }],
      api_keys: [{ key: 'sk-big-owner', user: 'u@big.test' }],
      ai_secrets: Array.from({ length: n }, (_, i) => ({
        org: 'big',
        name: `SECRET_${i}`,
        type: 'openai',
        secret: `sk-${i}-abcdefghij`,
      })),
    }),
  )
  return file
}

/** Starts the CLI on a big seed and sends `signal` once it says it is seeding. */
async function stopWhileSeeding(db: string, seed: string, signal: NodeJS.Signals) {
  const r = run(['--port', '0', '--db', db, '--seed', seed], { LOG_LEVEL: 'debug' })
  await new Promise<void>((resolve, reject) => {
    r.child.stdout!.on('data', () => {
      if (r.out().includes('"msg":"seeding a new database"')) resolve()
    })
    r.exited.then(() => reject(new Error(`exited before seeding: ${r.err()}`)))
  })
  r.child.kill(signal)
  return { code: await r.exited, signal: r.child.signalCode, out: r.out(), err: r.err() }
}

t.test(
  'SIGTERM or SIGINT during a big seed: exit 0, the seed rolled back, no half-written database left',
  async (t) => {
    const seed = bigSeedFile(200_000)
    const dir = mkdtempSync(join(tmpdir(), 'db-'))
    const fresh = join(dir, 'fresh.db')
    const term = await stopWhileSeeding(fresh, seed, 'SIGTERM')
    t.equal(term.signal, null, 'not killed by the signal')
    t.equal(term.code, 0, 'exit code 0')
    t.notMatch(term.out, 'listening on', 'never listened')
    t.equal(term.err, 'ai-secret-mock: stopped by SIGTERM during start-up; the database it had begun was removed\n')
    t.same(readdirSync(dir), [], 'the database file this start-up created is gone, -wal and -shm too')

    // A database that existed before (empty: made by an earlier start without a seed) is kept, as it was.
    const existing = join(dir, 'existing.db')
    const empty = await start(['--no-seed', '--db', existing])
    await stop(t, empty)
    const int = await stopWhileSeeding(existing, seed, 'SIGINT')
    t.equal(int.code, 0, 'SIGINT: exit code 0')
    t.equal(int.err, 'ai-secret-mock: stopped by SIGINT during start-up\n')
    const db = new Database(existing, { readonly: true })
    t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
    t.equal(db.prepare('SELECT count(*) FROM ai_secrets').pluck().get(), 0, 'nothing of the seed stayed')
    t.equal(db.prepare('SELECT count(*) FROM organizations').pluck().get(), 0)
    db.close()
    // And the next start seeds it as a new database.
    const next = await start(['--db', existing])
    t.match(next.stdout(), /seeded: +2 organizations/)
    await stop(t, next)
  },
)
