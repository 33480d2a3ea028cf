// Stopping during start-up (issue 11, finding 9), in the library: buildApp's `signal`
// aborts a big seed, which is rolled back; the transaction in steps gives the event loop
// turns and undoes everything on any error. (The CLI's signals: test/cli.test.ts.)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Database from 'better-sqlite3'
import t from 'tap'
import { buildApp, buildMockApp } from '../src/app.js'
import { openDatabase } from '../src/db/database.js'
import { Repository } from '../src/db/repository.js'

const bigSeed = (n: number) => ({
  organizations: [{ name: 'big' }],
  users: [{ email: 'u@big.test', memberships: { big: 'owner' } }],
  api_keys: [{ key: 'sk-big-owner', user: 'u@big.test' }],
  ai_secrets: Array.from({ length: n }, (_, i) => ({ org: 'big', name: `SECRET_${i}`, secret: `sk-${i}-abcdefghij` })),
})

t.test(
  'buildApp({ signal }): aborted while seeding, it rejects with the reason and keeps nothing of the seed',
  async (t) => {
    const db = join(mkdtempSync(join(tmpdir(), 'abort-')), 'mock.db')
    const ac = new AbortController()
    // Aborts once the seed has begun (the log line says so): noticed at the seed's next turn of the event loop,
    // mid-transaction.
    const stream = new Writable({
      write(chunk, _enc, cb) {
        if (String(chunk).includes('"msg":"seeding a new database"'))
          setImmediate(() => ac.abort(new Error('stop, please')))
        cb()
      },
    })
    await t.rejects(buildApp({ db, seed: bigSeed(50_000), logger: { level: 'debug', stream }, signal: ac.signal }), {
      message: 'stop, please',
    })
    const check = new Database(db, { readonly: true })
    t.equal(check.prepare('SELECT count(*) FROM ai_secrets').pluck().get(), 0)
    t.equal(check.prepare('SELECT count(*) FROM organizations').pluck().get(), 0, 'the seed was rolled back whole')
    t.equal(check.pragma('integrity_check', { simple: true }), 'ok')
    check.close()
    // The database was closed: a new start seeds it.
    const { app, mock } = await buildMockApp({ db, seed: bigSeed(30), logger: false })
    t.equal(mock.seeded?.ai_secrets.length, 30)
    await app.close()
  },
)

t.test('an aborted signal before the build: nothing is seeded', async (t) => {
  const ac = new AbortController()
  ac.abort(new Error('already stopped'))
  await t.rejects(buildApp({ seed: bigSeed(3), logger: false, signal: ac.signal }), { message: 'already stopped' })
})

t.test('Repository.transactionInSteps: committed whole, or rolled back on any error', async (t) => {
  const repo = new Repository(openDatabase(':memory:'))
  t.teardown(() => repo.db.close())
  const org = (n: number) => ({
    id: `00000000-0000-4000-8000-00000000000${n}`,
    name: `org-${n}`,
    created: '2026-01-01T00:00:00.000Z',
  })
  function* steps(fail: boolean): Generator<void, string> {
    repo.insertOrg(org(1))
    yield
    if (fail) throw new Error('broken')
    repo.insertOrg(org(2))
    return 'done'
  }
  await t.rejects(repo.transactionInSteps(steps(true)), { message: 'broken' })
  t.equal(repo.state().organizations.length, 0, 'rolled back')
  t.equal(await repo.transactionInSteps(steps(false)), 'done')
  t.equal(repo.state().organizations.length, 2, 'committed')
  t.equal(repo.db.inTransaction, false)
})
