// What clean-up and rotation jobs do with the official clients (issue 12, finding 1): list
// and delete in one loop. The official clients paginate by asking for the page after the
// last id of the previous one (`starting_after`), or, going backwards, before the first id
// (`ending_before`), until a page comes back empty; so a cursor names a secret the loop has
// just deleted. It keeps its position (GUESS: upstream is unrecorded).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { DeletedSecrets } from '../../src/db/deleted-secrets.js'
import { KEYS, build, call, headers } from '../support/app.js'

type App = Awaited<ReturnType<typeof build>>
interface Secret {
  id: string
  name: string
  org_id: string
}

const GLOBEX = '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b'

/** Two organizations, 11 secrets each; equal `created` times in places, so that the insertion order breaks ties. */
function seed() {
  const secrets = []
  for (let i = 0; i < 11; i++) {
    for (const org of ['acme', 'globex']) {
      secrets.push({
        org,
        name: `${org.toUpperCase()}_${i}`,
        type: 'openai',
        secret: `sk-${org}-${i}-0123456789`,
        created: `2026-01-01T00:00:${String(Math.floor(i / 2)).padStart(2, '0')}Z`,
      })
    }
  }
  return {
    organizations: [{ name: 'acme' }, { name: 'globex', id: GLOBEX }],
    users: [
      { email: 'bob@multi.test', memberships: { acme: 'owner', globex: 'owner' } },
      { email: 'alice@acme.test', memberships: { acme: 'owner' } },
    ],
    api_keys: [
      { key: KEYS.multi, user: 'bob@multi.test' },
      { key: KEYS.owner, user: 'alice@acme.test' },
    ],
    ai_secrets: secrets,
  }
}

async function list(t: Test, app: App, query: Record<string, string | number>, key: string = KEYS.multi) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
  const res = await call(t, app, {
    method: 'GET',
    url: `/v1/ai_secret${qs === '' ? '' : `?${qs}`}`,
    headers: headers(key),
  })
  return res
}

/**
 * The official clients' auto-pagination (Stainless `ListObjects.nextPageInfo`): forwards, the
 * next page starts after the last id; backwards (the first request had `ending_before`), it
 * ends before the first id; an empty page ends the loop.
 */
async function* paginate(
  t: Test,
  app: App,
  first: Record<string, string | number>,
  key?: string,
): AsyncGenerator<Secret> {
  let query = first
  const backwards = 'ending_before' in first
  for (;;) {
    const res = await list(t, app, query, key)
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
    const page = res.json().objects as Secret[]
    if (page.length === 0) return
    for (const s of page) yield s
    query = backwards ? { ...query, ending_before: page[0]!.id } : { ...query, starting_after: page.at(-1)!.id }
  }
}

async function deleteById(t: Test, app: App, id: string, key: string = KEYS.multi) {
  // As delete(id) sends it: content-type json, no body.
  const res = await call(t, app, { method: 'DELETE', url: `/v1/ai_secret/${id}`, headers: headers(key), payload: '' })
  t.equal(res.statusCode, 200, `delete ${id}`)
}

const remaining = async (app: App) =>
  (await app.inject({ method: 'GET', url: '/_mock/state' })).json().ai_secrets.length as number

t.test('forwards: for await (const s of list({ limit: 5 })) delete(s.id), across two organizations', async (t) => {
  const app = await build(t, { seed: seed() })
  const all = (await list(t, app, {})).json().objects as Secret[]
  t.equal(all.length, 22)
  const seen: string[] = []
  for await (const s of paginate(t, app, { limit: 5 })) {
    seen.push(s.id)
    await deleteById(t, app, s.id)
  }
  t.same(
    seen,
    all.map((s) => s.id),
    'every secret once, newest first, none skipped',
  )
  t.equal(await remaining(app), 0)
})

t.test('backwards: ending_before the first id of each page, from the oldest secret', async (t) => {
  const app = await build(t, { seed: seed() })
  const all = (await list(t, app, {})).json().objects as Secret[]
  const oldest = all.at(-1)!
  await deleteById(t, app, oldest.id)
  const seen: string[] = []
  for await (const s of paginate(t, app, { limit: 4, ending_before: oldest.id })) {
    seen.push(s.id)
    await deleteById(t, app, s.id)
  }
  // Each page comes newest first; pages go from older to newer.
  const pages: string[][] = []
  const older = all
    .slice(0, -1)
    .reverse()
    .map((s) => s.id)
  for (let i = 0; i < older.length; i += 4) pages.push(older.slice(i, i + 4).reverse())
  t.same(seen, pages.flat(), 'every other secret once, page by page towards the newest')
  t.equal(await remaining(app), 0)
})

t.test('one organization at a time, with org_name, deleting by name too', async (t) => {
  const app = await build(t, { seed: seed() })
  for (const org of ['acme', 'globex']) {
    let n = 0
    for await (const s of paginate(t, app, { limit: 3, org_name: org })) {
      n++
      const res = await call(t, app, {
        method: 'DELETE',
        url: '/v1/ai_secret',
        headers: headers(KEYS.multi),
        payload: { name: s.name, org_name: org },
      })
      t.equal(res.statusCode, 200)
    }
    t.equal(n, 11, org)
  }
  t.equal(await remaining(app), 0)
})

t.test('a deleted secret keeps its position for both cursors; the page is what it would be without it', async (t) => {
  const app = await build(t, { seed: seed() })
  const all = (await list(t, app, {})).json().objects as Secret[]
  const at = all[7]!
  await deleteById(t, app, at.id)
  const after = (await list(t, app, { starting_after: at.id, limit: 3 })).json().objects as Secret[]
  t.same(
    after.map((s) => s.id),
    all.slice(8, 11).map((s) => s.id),
  )
  const before = (await list(t, app, { ending_before: at.id, limit: 3 })).json().objects as Secret[]
  t.same(
    before.map((s) => s.id),
    all.slice(4, 7).map((s) => s.id),
  )
  t.equal(at.id.toUpperCase() === at.id, false)
  const upper = (await list(t, app, { starting_after: at.id.toUpperCase(), limit: 1 })).json().objects as Secret[]
  t.same(
    upper.map((s) => s.id),
    [all[8]!.id],
    'in any case, as a live id',
  )
})

t.test(
  'a secret created after the delete, in the same millisecond, is newer than the deleted cursor (found by the model)',
  async (t) => {
    // Without AUTOINCREMENT (migration 004), SQLite gives the next row the largest rowid + 1:
    // after the newest secret is deleted, the next one got its seq again; with a clock that
    // stands still, its created time too.
    const app = await build(t, { seed: false, deterministic: true })
    await app.inject({
      method: 'POST',
      url: '/_mock/seed',
      payload: {
        organizations: [{ name: 'acme' }],
        users: [{ email: 'a@acme.test', memberships: { acme: 'owner' } }],
        api_keys: [{ key: KEYS.owner, user: 'a@acme.test' }],
      },
    })
    const create = async (name: string) =>
      (
        await call(t, app, { method: 'POST', url: '/v1/ai_secret', headers: headers(KEYS.owner), payload: { name } })
      ).json() as Secret
    const older = await create('OLDER')
    const deleted = await create('DELETED')
    await deleteById(t, app, deleted.id, KEYS.owner)
    const newer = await create('NEWER')
    const ids = async (query: Record<string, string>) =>
      ((await list(t, app, query, KEYS.owner)).json().objects as Secret[]).map((s) => s.name)
    t.same(await ids({}), ['NEWER', 'OLDER'])
    t.same(await ids({ ending_before: deleted.id }), ['NEWER'], 'newer than the deleted cursor')
    t.same(await ids({ starting_after: deleted.id }), ['OLDER'], 'and not older')
    t.ok(newer.id !== deleted.id && older.id !== deleted.id)

    // Every secret deleted, the newest two first (found by the model again): SQLite would have
    // given the next secret the seq of the oldest deleted one, and a cursor at a deleted newer
    // one listed it.
    await deleteById(t, app, newer.id, KEYS.owner)
    await deleteById(t, app, older.id, KEYS.owner)
    const again = await create('AGAIN')
    t.same(await ids({ starting_after: newer.id }), [], 'nothing is older than the deleted NEWER: AGAIN came after')
    t.same(await ids({ starting_after: deleted.id }), [], 'nor than the deleted DELETED')
    t.same(await ids({ ending_before: older.id }), ['AGAIN'])
    t.ok(again.id !== older.id)
  },
)

t.test('a cursor that never named a secret the key could list stays a 400', async (t) => {
  const app = await build(t, { seed: seed() })
  const all = (await list(t, app, {})).json().objects as Secret[]
  const globex = all.find((s) => s.org_id === GLOBEX)!
  await deleteById(t, app, globex.id)
  const cases: [Record<string, string>, string][] = [
    [{ starting_after: globex.id }, KEYS.owner],
    [{ ending_before: globex.id }, KEYS.owner],
    [{ starting_after: globex.id, org_name: 'acme' }, KEYS.multi],
    [{ starting_after: '7e57a000-dead-4bee-8f00-c0ffee000001' }, KEYS.multi],
  ]
  for (const [query, key] of cases) {
    const res = await list(t, app, query, key)
    t.equal(res.statusCode, 400, JSON.stringify(query))
    const [param, id] = Object.entries(query)[0]!
    t.match(res.body, `Invalid ${param}: no ai_secret with id ${id} among those you can list`)
  }
  t.equal(
    (await list(t, app, { starting_after: globex.id, org_name: 'globex' })).statusCode,
    200,
    'in its own organization it keeps its position',
  )
})

t.test('until a reset: after it, a cursor of a secret deleted before is a 400', async (t) => {
  const app = await build(t, { seed: seed() })
  const [first] = (await list(t, app, { limit: 1 })).json().objects as Secret[]
  await deleteById(t, app, first!.id)
  t.equal((await list(t, app, { starting_after: first!.id })).statusCode, 200)
  await app.inject({ method: 'POST', url: '/_mock/reset' })
  t.equal(
    (await list(t, app, { starting_after: first!.id })).statusCode,
    400,
    'the reset forgot it (and the seed gave its secret a new id)',
  )
})

t.test('limitation: a file database restarted forgets deleted positions', async (t) => {
  const db = join(mkdtempSync(join(tmpdir(), 'cursor-')), 'mock.db')
  const first = await build(t, { db, seed: seed() })
  const [s] = (await list(t, first, { limit: 1 })).json().objects as Secret[]
  await deleteById(t, first, s!.id)
  await first.close()
  const second = await build(t, { db })
  t.equal((await list(t, second, { starting_after: s!.id })).statusCode, 400)
})

t.test('DeletedSecrets: bounded, the oldest dropped first', async (t) => {
  const d = new DeletedSecrets(3)
  for (let i = 1; i <= 5; i++) d.remember({ id: `id-${i}`, org_id: 'o', created: `c${i}`, seq: i })
  t.equal(d.size, 3)
  t.equal(d.position('id-1'), null)
  t.equal(d.position('id-2'), null)
  t.same(
    d.position('id-5'),
    { org_id: 'o', created: 'c5', seq: 5 },
    'its own seq, which no later secret gets (AUTOINCREMENT)',
  )
  // Round the ring many times: always the last three.
  for (let i = 6; i <= 40; i++) d.remember({ id: `id-${i}`, org_id: 'o', created: `c${i}`, seq: i })
  t.equal(d.size, 3)
  t.same(
    [37, 38, 39, 40].map((i) => d.position(`id-${i}`)?.created ?? null),
    [null, 'c38', 'c39', 'c40'],
  )
  // One remembered again (a seed may give a deleted secret's id to a new one): when full, the
  // oldest goes first all the same; then it is the newest if it was the oldest, else it keeps its place.
  const kept = () =>
    [...Array(46).keys()]
      .filter((i) => d.position(`id-${i}`) !== null)
      .map((i) => `${i}:${d.position(`id-${i}`)!.created}`)
  d.remember({ id: 'id-38', org_id: 'o', created: 'again', seq: 38 })
  t.same(kept(), ['38:again', '39:c39', '40:c40'])
  d.remember({ id: 'id-41', org_id: 'o', created: 'c41', seq: 41 })
  t.same(kept(), ['38:again', '40:c40', '41:c41'], 'id-39 was the oldest')
  d.remember({ id: 'id-41', org_id: 'o', created: 'twice', seq: 41 })
  t.same(kept(), ['38:again', '41:twice'], 'the oldest goes, and the one remembered again stays where it was')
  d.remember({ id: 'id-42', org_id: 'o', created: 'c42', seq: 42 })
  t.same(kept(), ['38:again', '41:twice', '42:c42'], 'room for one more')
  for (let i = 43; i <= 45; i++) d.remember({ id: `id-${i}`, org_id: 'o', created: `c${i}`, seq: i })
  t.same(kept(), ['43:c43', '44:c44', '45:c45'], 'the oldest first, in the order they were kept')
  d.clear()
  t.equal(d.size, 0)
  for (let i = 1; i <= 4; i++) d.remember({ id: `id-${i}`, org_id: 'o', created: `c${i}`, seq: i })
  t.same(
    [1, 2, 3, 4].map((i) => d.position(`id-${i}`)?.created ?? null),
    [null, 'c2', 'c3', 'c4'],
    'after clear, from the start again',
  )
  t.equal(new DeletedSecrets().limit, 10_000)
})
