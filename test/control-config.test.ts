import t from 'tap'
import { ConfigError, USAGE, parseConfig } from '../src/config.js'

// ADMIN_TOKEN, RATE_LIMIT_PER_MINUTE and MOCK_JOURNAL_SIZE: environment only (CONTRACT section 1).

t.test('unset or empty: absent, so the app defaults apply', async (t) => {
  for (const env of [
    {},
    { ADMIN_TOKEN: '', RATE_LIMIT_PER_MINUTE: '', MOCK_JOURNAL_SIZE: ' ' },
    { RATE_LIMIT_PER_MINUTE: '0' },
  ]) {
    const c = parseConfig([], env)
    t.equal(c.adminToken, undefined)
    t.equal(c.rateLimitPerMinute, undefined, 'RATE_LIMIT_PER_MINUTE=0 is off')
    t.equal(c.journalSize, undefined)
  }
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
  const { spawn } = await import('node:child_process')
  const { join } = await import('node:path')
  const { PACKAGE_ROOT } = await import('../src/paths.js')
  const run = (env: Record<string, string>) => {
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist', 'src', 'cli.js'), '--port', '0'], {
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
