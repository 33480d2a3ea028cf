import { spawn } from 'node:child_process'
import t from 'tap'
import { ConfigError, parseConfig, USAGE } from '../src/config.js'
import { SOURCE_CLI } from './support/app.js'

t.test('defaults', async (t) => {
  // No host: both loopback addresses (src/listen.ts).
  t.same(parseConfig([], {}), {
    port: 8000,
    db: ':memory:',
    seed: undefined,
    logLevel: 'info',
    logFormat: 'json',
    deterministic: false,
    help: false,
    version: false,
  })
  t.equal(parseConfig([], { HOST: '' }).host, undefined, 'an empty HOST is no HOST')
})

t.test('log format: pretty on a terminal, JSON otherwise; LOG_FORMAT, then --log-format, choose', async (t) => {
  t.equal(parseConfig([], {}).logFormat, 'json', 'stdout not a terminal: JSON lines')
  t.equal(parseConfig([], {}, true).logFormat, 'pretty', 'a terminal: pretty lines')
  t.equal(parseConfig([], { LOG_FORMAT: 'json' }, true).logFormat, 'json')
  t.equal(parseConfig([], { LOG_FORMAT: 'PRETTY' }).logFormat, 'pretty')
  t.equal(parseConfig([], { LOG_FORMAT: '' }, true).logFormat, 'pretty', 'empty is unset')
  t.equal(parseConfig(['--log-format', 'json'], { LOG_FORMAT: 'pretty' }, true).logFormat, 'json', 'the flag wins')
})

t.test('environment, and flags over environment', async (t) => {
  const env = {
    PORT: '9000',
    HOST: '0.0.0.0',
    DB_PATH: '/tmp/x.db',
    SEED_FILE: 's.json',
    LOG_LEVEL: 'warn',
    MOCK_DETERMINISTIC: '1',
  }
  t.match(parseConfig([], env), {
    port: 9000,
    host: '0.0.0.0',
    db: '/tmp/x.db',
    seed: 's.json',
    logLevel: 'warn',
    deterministic: true,
  })
  t.match(
    parseConfig(['--port', '0', '--host', '::1', '--db', 'a.db', '--seed', 'b.json', '--log-level', 'debug'], env),
    {
      port: 0,
      host: '::1',
      db: 'a.db',
      seed: 'b.json',
      logLevel: 'debug',
    },
  )
  t.equal(parseConfig(['--no-seed'], env).seed, false)
  t.equal(parseConfig(['--deterministic'], {}).deterministic, true)
  t.equal(parseConfig([], { JWT_SECRET: 's3cret' }).jwtSecret, 's3cret')
  t.equal(parseConfig([], { JWT_SECRET: '' }).jwtSecret, undefined)
})

t.test('bad configuration is one clear line', async (t) => {
  const cases: [string[], Record<string, string>, string][] = [
    [['--port', 'abc'], {}, '--port: must be a whole number from 0 to 65535, not "abc"'],
    [[], { PORT: '70000' }, 'PORT: must be a whole number from 0 to 65535, not "70000"'],
    [
      ['--log-level', 'loud'],
      {},
      '--log-level: must be one of fatal, error, warn, info, debug, trace, silent, not "loud"',
    ],
    [[], { LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of'],
    [['--log-format', 'xml'], {}, '--log-format: must be json or pretty, not "xml"'],
    [[], { LOG_FORMAT: 'logfmt' }, 'LOG_FORMAT: must be json or pretty, not "logfmt"'],
    [['--seed', 'a', '--no-seed'], {}, '--seed and --no-seed: give one or the other'],
    [['--bogus'], {}, "Unknown option '--bogus'"],
    [['--db', ' '], {}, '--db: must not be empty'],
    [[], { MOCK_DETERMINISTIC: 'maybe' }, 'MOCK_DETERMINISTIC: must be 1/true or 0/false'],
  ]
  for (const [argv, env, message] of cases) {
    t.throws(() => parseConfig(argv, env), ConfigError)
    try {
      parseConfig(argv, env)
    } catch (err) {
      t.match((err as Error).message, message)
      t.notMatch((err as Error).message, '\n')
    }
  }
})

// --- ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE and MOCK_JOURNAL_SIZE: environment only -----------------
// ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE and MOCK_JOURNAL_SIZE: environment only (docs/configuration.md).

t.test('unset or empty: absent, so the app defaults apply', async (t) => {
  for (const env of [
    {},
    {
      RATE_LIMIT_PER_MINUTE: '',
      MOCK_JOURNAL_SIZE: ' ',
      ALLOWED_HOSTS: '',
      CORS_ORIGINS: ' , ',
      REQUEST_TIMEOUT_MS: '',
    },
    { RATE_LIMIT_PER_MINUTE: '0' },
  ]) {
    const c = parseConfig([], env)
    t.equal(c.adminToken, undefined)
    t.equal(c.rateLimitPerMinute, undefined, 'RATE_LIMIT_PER_MINUTE=0 is off')
    t.equal(c.journalSize, undefined)
    t.equal(c.allowedHosts, undefined)
    t.equal(c.corsOrigins, undefined)
    t.equal(c.requestTimeoutMs, undefined)
  }
})

t.test('ADMIN_TOKEN set but empty is a configuration error, never an open control plane', async (t) => {
  t.throws(() => parseConfig([], { ADMIN_TOKEN: '' }), {
    name: 'ConfigError',
    message: 'ADMIN_TOKEN: set but empty; unset it for an open control plane, or give a token',
  })
  const bin = spawn(process.execPath, [...SOURCE_CLI, '--port', '0'], { env: { ...process.env, ADMIN_TOKEN: '' } })
  let err = ''
  bin.stderr.on('data', (d) => (err += d))
  t.equal(await new Promise((resolve) => bin.on('exit', resolve)), 2, 'exit 2, as for any bad configuration')
  t.equal(err, 'ai-secret-mock: ADMIN_TOKEN: set but empty; unset it for an open control plane, or give a token\n')
})

t.test('ALLOWED_HOSTS, CORS_ORIGINS: comma-separated lists; REQUEST_TIMEOUT_MS: milliseconds', async (t) => {
  t.match(parseConfig([], { ALLOWED_HOSTS: 'mock.test, ci-box ,', CORS_ORIGINS: 'https://harness.test' }), {
    allowedHosts: ['mock.test', 'ci-box'],
    corsOrigins: ['https://harness.test'],
  })
  t.equal(parseConfig([], { ALLOWED_HOSTS: '*' }).allowedHosts?.[0], '*')
  t.equal(parseConfig([], { REQUEST_TIMEOUT_MS: '500' }).requestTimeoutMs, 500)
  t.throws(() => parseConfig([], { REQUEST_TIMEOUT_MS: '0' }), {
    message: /^REQUEST_TIMEOUT_MS: must be a whole number from 1/,
  })
  t.match(USAGE, /ALLOWED_HOSTS=H,H/)
  t.match(USAGE, /CORS_ORIGINS=O,O/)
  t.match(USAGE, /REQUEST_TIMEOUT_MS=N/)
})

t.test('read from the environment', async (t) => {
  t.match(parseConfig([], { ADMIN_TOKEN: 'tok-1', RATE_LIMIT_PER_MINUTE: '120', MOCK_JOURNAL_SIZE: '0' }), {
    adminToken: 'tok-1',
    rateLimitPerMinute: 120,
    journalSize: 0,
  })
  t.match(USAGE, /ADMIN_TOKEN=T/)
  t.match(USAGE, /RATE_LIMIT_PER_MINUTE=N/)
  t.match(USAGE, /MOCK_JOURNAL_SIZE=N/)
})

t.test('bad values are one clear line', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{ ADMIN_TOKEN: 'two words' }, 'ADMIN_TOKEN: must be one token of printable characters, without spaces'],
    [{ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE: must be a whole number from 0 to 1000000, not "lots"'],
    [{ RATE_LIMIT_PER_MINUTE: '-5' }, 'RATE_LIMIT_PER_MINUTE: must be a whole number'],
    [{ MOCK_JOURNAL_SIZE: '1e3' }, 'MOCK_JOURNAL_SIZE: must be a whole number from 0 to 100000, not "1e3"'],
    [{ MOCK_JOURNAL_SIZE: '100001' }, 'MOCK_JOURNAL_SIZE: must be a whole number from 0 to 100000'],
  ]
  for (const [env, message] of cases) {
    try {
      parseConfig([], env)
      t.fail(`accepted ${JSON.stringify(env)}`)
    } catch (err) {
      t.type(err, ConfigError)
      t.match((err as Error).message, message)
      t.notMatch((err as Error).message, '\n')
    }
  }
})

t.test('the bin reads them: bad values stop start-up, ADMIN_TOKEN guards /_mock', async (t) => {
  const run = (env: Record<string, string>) => {
    const child = spawn(process.execPath, [...SOURCE_CLI, '--port', '0'], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    return { child, out: () => out, err: () => err, exited }
  }

  const bad = run({ MOCK_JOURNAL_SIZE: 'many' })
  t.equal(await bad.exited, 2)
  t.equal(bad.err(), 'ai-secret-mock: MOCK_JOURNAL_SIZE: must be a whole number from 0 to 100000, not "many"\n')

  const good = run({ ADMIN_TOKEN: 'cli-admin', RATE_LIMIT_PER_MINUTE: '1' })
  t.teardown(() => good.child.kill('SIGKILL'))
  const url = await new Promise<string>((resolve, reject) => {
    good.child.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(good.out())
      if (m) resolve(m[1]!)
    })
    good.exited.then(() => reject(new Error(good.err())))
  })
  t.equal((await fetch(`${url}/_mock/state`)).status, 401)
  t.equal((await fetch(`${url}/_mock/state`, { headers: { authorization: 'Bearer cli-admin' } })).status, 200)
  const del = () =>
    fetch(`${url}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk-mock-acme-member', 'content-type': 'application/json' },
      body: '{"name":"x"}',
    })
  t.equal((await del()).status, 400)
  t.equal((await del()).status, 429)
  good.child.kill('SIGTERM')
  t.equal(await good.exited, 0)
})
