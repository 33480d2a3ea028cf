import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp, buildMockApp } from '../src/app.js'
import { readSeedFile, SeedError } from '../src/seed.js'
import { build, buildMock, call, headers, KEYS } from './support/app.js'

const base = {
  organizations: [{ name: 'acme' }],
  users: [{ email: 'a@acme.test', memberships: { acme: 'owner' } }],
  api_keys: [{ key: 'sk-a', user: 'a@acme.test' }],
  ai_secrets: [{ org: 'acme', name: 'K' }],
}

async function seedError(t: Test, seed: unknown): Promise<SeedError> {
  const err = await buildApp({ seed: seed as object, logger: false }).then(
    () => t.fail('should have refused the seed'),
    (e: unknown) => e,
  )
  t.ok(err instanceof SeedError, String(err))
  return err as SeedError
}

t.test('the demo seed: organizations, users, scoped and member keys, two secrets', async (t) => {
  const { mock } = await buildMock(t, { deterministic: true })
  const seeded = mock.seeded!
  t.same(
    seeded.organizations.map((o) => o.name),
    ['acme', 'globex'],
  )
  t.equal(seeded.organizations[1]!.id, '6f1c9a52-3d0e-4b8e-9f2a-1c2d3e4f5a6b', 'a given id is kept')
  t.same(
    seeded.api_keys.map((k) => [k.preview, k.user, k.org, k.orgs]),
    [
      ['sk-...ner', 'alice@acme.test', null, [{ name: 'acme', role: 'owner' }]],
      [
        'sk-...org',
        'bob@multi.test',
        null,
        [
          { name: 'acme', role: 'owner' },
          { name: 'globex', role: 'owner' },
        ],
      ],
      ['sk-...nly', 'bob@multi.test', 'globex', [{ name: 'globex', role: 'owner' }]],
      ['sk-...ber', 'val@acme.test', null, [{ name: 'acme', role: 'member' }]],
    ],
  )
  const keys = mock.repo.db.prepare('SELECT key_hash, preview FROM api_keys').all() as { key_hash: string }[]
  for (const k of keys) t.match(k.key_hash, /^[0-9a-f]{64}$/, 'only the hash is stored')
  t.notMatch(JSON.stringify(keys), KEYS.owner)
})

t.test('ids and timestamps may be given', async (t) => {
  const id = '11111111-2222-4333-8444-555555555555'
  const app = await build(t, {
    seed: {
      ...base,
      ai_secrets: [{ org: 'acme', name: 'K', id, created: '2025-01-02T03:04:05Z', secret: 'abcdefghijkl' }],
    },
  })
  const res = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers('sk-a'),
    payload: { name: 'K' },
  })
  t.match(res.json(), {
    id,
    created: '2025-01-02T03:04:05.000Z',
    updated_at: '2025-01-02T03:04:05.000Z',
    secret_updated_at: '2025-01-02T03:04:05.000Z',
    preview_secret: 'abc...jkl',
  })
})

t.test('every seed error names the JSON path and what is wrong', async (t) => {
  const cases: [unknown, string][] = [
    [[], '$: must be an object, not an array'],
    [{ ...base, extra: 1 }, '$.extra: unknown field'],
    [{ organizations: {} }, '$.organizations: must be an array, not an object'],
    [{ organizations: [{ name: 'a' }, { name: 'a' }] }, '$.organizations[1].name: duplicate organization name "a"'],
    [{ organizations: [{}] }, '$.organizations[0].name: is required'],
    [{ organizations: [{ name: 'a', id: 'nope' }] }, '$.organizations[0].id: must be a uuid'],
    [{ organizations: [{ name: 'a', colour: 'red' }] }, '$.organizations[0].colour: unknown field'],
    [
      { ...base, users: [{ email: 'a@x', memberships: { nope: 'owner' } }] },
      '$.users[0].memberships.nope: unknown organization "nope"',
    ],
    [
      { ...base, users: [{ email: 'a@x', memberships: { acme: 'admin' } }] },
      '$.users[0].memberships.acme: must be "owner" or "member", not "admin"',
    ],
    [
      { ...base, users: [...base.users, { email: 'a@acme.test' }] },
      '$.users[1].email: duplicate user email "a@acme.test"',
    ],
    [{ ...base, api_keys: [{ key: 'sk-b', user: 'who@x' }] }, '$.api_keys[0].user: unknown user "who@x"'],
    [
      { ...base, api_keys: [{ key: 'sk-b', user: 'a@acme.test', org: 'nope' }] },
      '$.api_keys[0].org: unknown organization "nope"',
    ],
    [
      { ...base, api_keys: [...base.api_keys, { key: 'sk-a', user: 'a@acme.test' }] },
      '$.api_keys[1].key: duplicate API key',
    ],
    [
      { ...base, api_keys: [{ key: 'sk a ', user: 'a@acme.test' }] },
      '$.api_keys[0].key: has white space at either end',
    ],
    [
      { ...base, api_keys: [{ key: 'a.b.c', user: 'a@acme.test' }] },
      '$.api_keys[0].key: has three dot-separated parts',
    ],
    [{ ...base, ai_secrets: [{ org: 'nope', name: 'K' }] }, '$.ai_secrets[0].org: unknown organization "nope"'],
    [
      {
        ...base,
        ai_secrets: [
          { org: 'acme', name: 'K' },
          { org: 'acme', name: 'K' },
        ],
      },
      '$.ai_secrets[1].name: duplicate ai_secret name "K" in organization "acme"',
    ],
    [
      { ...base, ai_secrets: [{ org: 'acme', name: 'K', secret: 5 }] },
      '$.ai_secrets[0].secret: must be a string or null, not 5',
    ],
    [
      { ...base, ai_secrets: [{ org: 'acme', name: 'K', metadata: [1] }] },
      '$.ai_secrets[0].metadata: must be an object or null, not an array',
    ],
    [
      { ...base, ai_secrets: [{ org: 'acme', name: 'K', created: 'yesterday' }] },
      '$.ai_secrets[0].created: must be an RFC 3339 date-time',
    ],
    [{ ...base, ai_secrets: [{ org: 'acme', name: '' }] }, '$.ai_secrets[0].name: must not be empty'],
    // Instants outside the clock's years 0001-9999: answered as `+010000-…`, they were not RFC 3339.
    ...(
      [
        ['created', '9999-12-31T23:59:59-23:59'],
        ['updated_at', '9999-12-31T23:59:60Z'],
        ['created', '0000-01-01T00:00:00+01:00'],
        ['created', '0000-06-01T00:00:00Z'],
        ['secret_updated_at', '0001-01-01T00:30:00+01:00'],
      ] as const
    ).map(([field, value]): [unknown, string] => [
      { ...base, ai_secrets: [{ org: 'acme', name: 'K', secret: 'sk-x', [field]: value }] },
      `$.ai_secrets[0].${field}: "${value}" is outside 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z`,
    ]),
    [
      { organizations: [{ name: 'a', created: '9999-12-31T23:00:00-01:00' }] },
      '$.organizations[0].created: "9999-12-31T23:00:00-01:00" is outside 0001-01-01T00:00:00.000Z to ' +
        '9999-12-31T23:59:59.999Z',
    ],
    [
      {
        organizations: [
          { name: 'a', id: '11111111-2222-4333-8444-555555555555' },
          { name: 'b', id: '11111111-2222-4333-8444-555555555555' },
        ],
      },
      '$.organizations[1].id: id 11111111-2222-4333-8444-555555555555 is already used',
    ],
    [
      { users: [{ email: 'x@x', memberships: { 'my org': 'owner' } }] },
      '$.users[0].memberships["my org"]: unknown organization "my org"',
    ],
  ]
  for (const [seed, message] of cases) {
    const err = await seedError(t, seed)
    t.ok(err.message.startsWith(`seed: ${message}`), `${err.message}\n  expected: ${message}`)
  }
})

t.test('a seed file: errors name the file; bad JSON gives a position, never the text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'))
  const file = join(dir, 'mine.json')
  writeFileSync(file, '{\n  "organizations": [\n    { "name": "acme", }\n  ]\n}\n')
  const err = await seedError(t, file)
  t.match(err.message, `seed file ${file}: $: is not valid JSON`)
  writeFileSync(file, '{"api_keys": [{"key": sk-live-zzz}]}')
  t.notMatch(
    String(
      (() => {
        try {
          readSeedFile(file)
        } catch (e) {
          return e
        }
      })(),
    ),
    'sk-live',
  )
  t.match(
    String((await seedError(t, join(dir, 'missing.json'))).message),
    `seed file ${join(dir, 'missing.json')}: $: cannot be read (ENOENT)`,
  )
  // An audit found a FIFO (or /dev/zero) as --seed hanging start-up for ever, SIGTERM included:
  // the synchronous read blocked on the FIFO or never ended. Only a regular file is read.
  execFileSync('mkfifo', [join(dir, 'fifo.json')])
  for (const notFile of [join(dir, 'fifo.json'), '/dev/zero']) {
    t.equal(
      (await seedError(t, notFile)).message,
      `seed file ${notFile}: $: cannot be read (not a regular file)`,
      `${notFile}: refused at once`,
    )
  }
  t.equal((await seedError(t, dir)).message, `seed file ${dir}: $: cannot be read (EISDIR)`)
  writeFileSync(file, JSON.stringify({ ...base, users: [{ email: 'b@x', memberships: { acme: 'boss' } }] }))
  t.match(
    (await seedError(t, file)).message,
    `seed file ${file}: $.users[0].memberships.acme: must be "owner" or "member", not "boss"`,
  )
})

t.test('a refused seed leaves nothing behind (one transaction)', async (t) => {
  const { mock } = await buildMock(t, { seed: false })
  const { applySeed } = await import('../src/seed.js')
  t.throws(() =>
    applySeed(
      mock.repo,
      { ...base, ai_secrets: [{ org: 'nope', name: 'K' }] },
      { now: () => new Date(), newId: () => crypto.randomUUID() },
    ),
  )
  t.equal(mock.repo.isEmpty(), true)
})

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return 'did not throw'
}

t.test('a big seed: indexes rebuilt after the rows, order, uniqueness and errors as for a small one', async (t) => {
  const { REBUILD_INDEXES_AT } = await import('../src/db/repository.js')
  const n = REBUILD_INDEXES_AT + 5
  const secrets = (org: string, from = 0) =>
    Array.from({ length: n }, (_, i) => ({
      org,
      name: `S${from + i}`,
      secret: `sk-${i}`,
      created: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, (from + i) % 3)).toISOString(),
    }))
  const { app, mock } = await buildMockApp({ seed: { ...base, ai_secrets: secrets('acme') }, logger: false })
  t.teardown(() => app.close())
  const db = mock.repo.db
  const indexes = () =>
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ai_secrets' AND sql IS NOT NULL ORDER BY name`,
      )
      .pluck()
      .all()
  t.same(indexes(), ['ai_secrets_id', 'ai_secrets_org_created', 'ai_secrets_org_name'], 'every index is back')
  t.equal(mock.seeded!.ai_secrets.length, n)

  // The list uses the rebuilt (org, created) index, read backwards: newest first, insertion order breaking ties.
  const page = await call(t, app, { method: 'GET', url: '/v1/ai_secret?limit=4', headers: headers('sk-a') })
  const names = page.json().objects.map((s: { name: string }) => Number(s.name.slice(1)))
  t.ok(
    names.every((k: number) => k % 3 === 2),
    'the newest created time first',
  )
  t.ok(
    names.every((k: number, i: number) => i === 0 || k < names[i - 1]!),
    'ties in insertion order, newest first',
  )
  const del = await call(t, app, {
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: headers('sk-a'),
    payload: { name: 'S17' },
  })
  t.equal(del.json().name, 'S17', 'found by (org, name)')

  // The rebuilt unique indexes still hold.
  t.match(
    thrown(() => mock.control.seed({ ai_secrets: [{ org: 'acme', name: 'S18' }] })),
    { path: '$.ai_secrets[0].name' },
    'a taken name, found in the store',
  )
  t.throws(
    () =>
      db
        .prepare(`INSERT INTO ai_secrets (id, org, name, created, updated_at) VALUES (?, 1, 'S19', 'x', 'x')`)
        .run('00000000-0000-4000-8000-00000000abcd'),
    /UNIQUE constraint failed: ai_secrets.org, ai_secrets.name/,
  )

  // A duplicate at the far end of a big seed: named, and nothing of the seed stays.
  const dup = [...secrets('globex'), { org: 'globex', name: 'S3' }]
  t.match(
    thrown(() => mock.control.seed({ organizations: [{ name: 'globex' }], ai_secrets: dup })),
    {
      path: `$.ai_secrets[${n}].name`,
      problem: 'duplicate ai_secret name "S3" in organization "globex"',
    },
  )
  t.equal(mock.control.state().organizations.length, 1, 'globex was not added')
  t.same(indexes(), ['ai_secrets_id', 'ai_secrets_org_created', 'ai_secrets_org_name'])

  // Fewer rows than the table holds: added row by row, the indexes stay.
  const more = mock.control.seed({
    organizations: [{ name: 'globex' }],
    ai_secrets: secrets('globex', 100).slice(0, REBUILD_INDEXES_AT),
  })
  t.equal(more.ai_secrets.length, REBUILD_INDEXES_AT)
  t.equal(db.prepare('SELECT count(*) FROM ai_secrets').pluck().get(), n - 1 + REBUILD_INDEXES_AT)
})

// --- lone surrogates in a seed (found by the model-based run) ----------------------------------
// A seed file or object could still hold "\ud800", which SQLite reads back as other characters:
// refused like any other bad value, naming the JSON path.
const world = {
  organizations: [{ name: 'acme' }],
  users: [{ email: 'a@acme.test', memberships: { acme: 'owner' } }],
  api_keys: [{ key: 'sk-a-key-123', user: 'a@acme.test' }],
}

t.test('a seed object with a lone surrogate in a name is refused, naming the path', async (t) => {
  for (const [seed, path] of [
    [{ ...world, ai_secrets: [{ org: 'acme', name: 'lone \ud800' }] }, '$.ai_secrets[0].name'],
    [{ ...world, ai_secrets: [{ org: 'acme', name: 'ok', secret: 'sk-\udc00-value' }] }, '$.ai_secrets[0].secret'],
    [{ ...world, organizations: [{ name: 'acme' }, { name: '\udfff' }] }, '$.organizations[1].name'],
  ] as const) {
    await t.rejects(
      buildApp({ db: ':memory:', seed }),
      { name: 'SeedError', message: new RegExp(`${path.replace(/[$.[\]]/g, '\\$&')}: .*not Unicode`) },
      path,
    )
  }
})

t.test('a seed file with "\\ud800" in a name is refused, naming the file and the path', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'seed-')), 'seed.json')
  writeFileSync(file, JSON.stringify({ ...world, ai_secrets: [{ org: 'acme', name: 'lone \ud800' }] }))
  await t.rejects(buildApp({ db: ':memory:', seed: file }), {
    name: 'SeedError',
    message: /seed file .*seed\.json: \$\.ai_secrets\[0\]\.name: .*not Unicode/,
  })
})
