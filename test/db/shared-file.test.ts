// Several processes on one database file (the README's race checks run two CLIs on one file):
// each answers from the file, so keys, organizations, memberships, seeds, resets and secrets
// another one committed count from its next request on. Two apps in one process hold two
// SQLite connections, as two processes do: what one caches, the other's commits must undo.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import Database from 'better-sqlite3'
import { buildApp, buildMockApp } from '../../src/app.js'
import { KEYS, call, headers } from '../support/app.js'

const fileDb = () => join(mkdtempSync(join(tmpdir(), 'shared-')), 'mock.db')

async function open(t: Test, db: string, deterministic = false) {
  const app = await buildApp({ db, logger: false, deterministic })
  t.teardown(() => app.close())
  return app
}

const names = async (t: Test, app: Awaited<ReturnType<typeof open>>, key: string) => {
  const res = await call(t, app, { method: 'GET', url: '/v1/ai_secret', headers: headers(key) })
  return res.statusCode === 200 ? (res.json().objects as { name: string }[]).map((s) => s.name).sort() : res.statusCode
}

t.test('a key seeded, then removed by a reset, through one process: the other follows at once', async (t) => {
  const db = fileDb()
  const a = await open(t, db)
  const b = await open(t, db)
  t.same(await names(t, b, KEYS.owner), ['OPENAI_API_KEY'], 'B caches the demo key')
  t.equal(await names(t, b, 'sk-late-key'), 401, 'B caches that this key does not exist')
  const seeded = await a.inject({
    method: 'POST',
    url: '/_mock/seed',
    payload: { api_keys: [{ key: 'sk-late-key', user: 'alice@acme.test' }] },
  })
  t.equal(seeded.statusCode, 201)
  t.same(await names(t, b, 'sk-late-key'), ['OPENAI_API_KEY'], 'a key seeded through A works on B')
  t.equal((await a.inject({ method: 'POST', url: '/_mock/reset' })).statusCode, 200)
  t.equal(await names(t, b, 'sk-late-key'), 401, 'A reset removed it: B refuses it')
  // A's reset gave the organizations new ids: B's cached principal would have written to none.
  t.same(await names(t, b, KEYS.owner), ['OPENAI_API_KEY'], 'B lists what A reset to, not []')
  const put = await call(t, b, {
    method: 'PUT',
    url: '/v1/ai_secret',
    headers: headers(KEYS.owner),
    payload: { name: 'FROM_B' },
  })
  t.equal(put.statusCode, 200, 'B writes after A reset (no NOT NULL constraint failed)')
  const del = await call(t, b, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers(KEYS.globexOnly),
    payload: { name: 'OPENAI_API_KEY' },
  })
  t.equal(del.statusCode, 200, 'another organization, after the reset')
  t.same(await names(t, a, KEYS.owner), ['FROM_B', 'OPENAI_API_KEY'], 'A sees what B wrote')
})

t.test('memberships and organizations another process adds count at once', async (t) => {
  const db = fileDb()
  const a = await open(t, db)
  const b = await open(t, db)
  t.equal(await names(t, b, 'sk-initech-owner'), 401, 'B caches that this key does not exist')
  await a.inject({
    method: 'POST',
    url: '/_mock/seed',
    payload: {
      organizations: [{ name: 'initech' }],
      users: [{ email: 'val2@acme.test', memberships: { initech: 'owner' } }],
      ai_secrets: [{ org: 'initech', name: 'INITECH_KEY' }],
    },
  })
  const seedUser = await a.inject({
    method: 'POST',
    url: '/_mock/seed',
    payload: { api_keys: [{ key: 'sk-initech-owner', user: 'val2@acme.test' }] },
  })
  t.equal(seedUser.statusCode, 201)
  t.same(await names(t, b, 'sk-initech-owner'), ['INITECH_KEY'])
})

t.test('deterministic ids on a file: after a restart, and between two processes, never made twice', async (t) => {
  const db = fileDb()
  const first = await buildApp({ db, logger: false, deterministic: true })
  const ids: string[] = []
  const create = async (app: Awaited<ReturnType<typeof open>>, name: string) => {
    const res = await call(t, app, {
      method: 'POST',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name },
    })
    t.equal(res.statusCode, 200, name)
    ids.push(res.json().id)
  }
  for (let i = 0; i < 3; i++) await create(first, `BEFORE_${i}`)
  await first.close()
  const again = await open(t, db, true)
  for (let i = 0; i < 10; i++) await create(again, `AFTER_${i}`)
  const other = await open(t, db, true)
  for (let i = 0; i < 5; i++) {
    await create(other, `OTHER_${i}`)
    await create(again, `AGAIN_${i}`)
  }
  t.equal(new Set(ids).size, ids.length, `${ids.length} ids, all different`)
  t.ok(
    ids.every((id) => id.startsWith('00000000-0000-4000-8000-')),
    'all deterministic',
  )
})

t.test('deterministic ids after a seed stored the largest one: uuids still, reachable, none made twice', async (t) => {
  const db = fileDb()
  const seed = {
    organizations: [{ name: 'big', id: '00000000-0000-4000-8000-ffffffffffff' }],
    users: [{ email: 'u@big.test', memberships: { big: 'owner' } }],
    api_keys: [{ key: 'sk-big-owner', user: 'u@big.test' }],
  }
  const ids: string[] = []
  for (const round of [1, 2]) {
    const app = await buildApp({ db, logger: false, deterministic: true, seed })
    for (let i = 0; i < 3; i++) {
      const made = await call(t, app, {
        method: 'POST',
        url: '/v1/ai_secret',
        headers: headers('sk-big-owner'),
        payload: { name: `S_${round}_${i}` },
      })
      t.equal(made.statusCode, 200, `round ${round}: created (no UNIQUE constraint failure after the restart)`)
      const id = made.json().id as string
      ids.push(id)
      const got = await call(t, app, { method: 'GET', url: `/v1/ai_secret/${id}`, headers: headers('sk-big-owner') })
      t.equal(got.statusCode, 200, `${id} can be read by its id`)
    }
    await app.close()
  }
  t.equal(new Set(ids).size, 6, 'six different ids')
})

t.test('a reset through another process: ids start again as its own would, held requests end unanswered', async (t) => {
  const db = fileDb()
  const a = await open(t, db, true)
  const b = await open(t, db, true)
  const create = async (app: Awaited<ReturnType<typeof open>>, name: string) =>
    (
      await call(t, app, { method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name } })
    ).json().id as string
  const first = await create(a, 'A_1')
  await create(a, 'A_2')
  t.equal((await b.inject({ method: 'POST', url: '/_mock/reset' })).statusCode, 200)
  t.equal(await create(a, 'A_AFTER'), first, 'A makes the id B would after the reset: the first after the seed')
  t.equal((await b.inject({ method: 'POST', url: '/_mock/reset' })).statusCode, 200)
  t.equal(await create(b, 'B_AFTER'), first, 'and B, after its own')

  // A DELETE on A held by a delay, then a reset through B: it ends without an answer, deleting nothing.
  await a.inject({ method: 'POST', url: '/_mock/faults', payload: { method: 'DELETE', delay_ms: 300 } })
  const held = a
    .inject({
      method: 'DELETE',
      url: '/v1/ai_secret',
      headers: headers(KEYS.owner),
      payload: { name: 'OPENAI_API_KEY' },
    })
    .then(
      (r) => r.statusCode,
      (e: Error & { code?: string }) => e.code,
    )
  await new Promise((r) => setTimeout(r, 50))
  t.equal((await b.inject({ method: 'POST', url: '/_mock/reset' })).statusCode, 200)
  t.equal(await held, 'LIGHT_ECONNRESET', 'the held DELETE ended unanswered')
  t.same(await names(t, b, KEYS.owner), ['OPENAI_API_KEY'], 'nothing deleted after the reset')
})

t.test(
  'the file locked by another process past busy_timeout: a 503 to retry, nothing written, never a 500',
  async (t) => {
    // An audit held BEGIN IMMEDIATE from another process: the POST waited 5 s, then answered 500.
    const db = fileDb()
    const { app, mock } = await buildMockApp({ db, logger: false })
    t.teardown(() => app.close())
    mock.repo.db.pragma('busy_timeout = 50') // the mock waits 5 s; this test need not
    const other = new Database(db)
    t.teardown(() => other.close())
    other.exec('BEGIN IMMEDIATE')
    const writes = [
      { method: 'POST' as const, url: '/v1/ai_secret', payload: { name: 'LOCKED' } },
      { method: 'DELETE' as const, url: '/v1/ai_secret', payload: { name: 'OPENAI_API_KEY' } },
    ]
    for (const w of writes) {
      const res = await app.inject({ ...w, headers: headers(KEYS.owner) })
      t.equal(res.statusCode, 503, `${w.method}: 503`)
      t.equal(res.headers['retry-after'], '1')
      t.match(res.body, /^Service Unavailable: the database file stayed locked by another process/)
    }
    other.exec('ROLLBACK')
    t.same(await names(t, app, KEYS.owner), ['OPENAI_API_KEY'], 'nothing was written; the lock gone, reads go on')
    const after = await call(t, app, { ...writes[0]!, headers: headers(KEYS.owner) })
    t.equal(after.statusCode, 200, 'and the same POST, sent again, is done')
  },
)
