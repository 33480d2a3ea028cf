import t from 'tap'
import { ConfigError, parseConfig } from '../src/config.js'

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
