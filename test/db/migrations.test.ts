import { mkdtempSync, writeFileSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { openDatabase } from '../../src/db/database.js'
import { loadMigrations, migrate } from '../../src/db/migrate.js'
import { MIGRATIONS_DIR } from '../../src/paths.js'
import { buildApp } from '../../src/app.js'
import { hashKey } from '../../src/auth/authenticate.js'

const latest = loadMigrations().length

t.test('a fresh database reaches the latest version; a second run changes nothing', async (t) => {
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  t.same(
    migrate(db),
    Array.from({ length: latest }, (_, i) => i + 1),
  )
  t.equal(db.pragma('user_version', { simple: true }), latest)
  const schema = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()
  t.same(migrate(db), [], 'nothing pending')
  t.same(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all(), schema)
})

t.test('a file database: WAL, synchronous=NORMAL, foreign keys on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  const db = openDatabase(join(dir, 'x.db'))
  t.teardown(() => db.close())
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
})

t.test('a database newer than the code is a clear error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  const file = join(dir, 'new.db')
  const raw = new Database(file)
  raw.pragma(`user_version = ${latest + 1}`)
  raw.close()
  t.throws(() => openDatabase(file), {
    message: `database schema version ${latest + 1} is newer than this ai-secret-mock knows (${latest})`,
  })
})

t.test('a failing migration is rolled back whole and named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  const next = String(latest + 1).padStart(3, '0')
  writeFileSync(join(dir, `${next}-broken.sql`), 'CREATE TABLE half (x); SELECT * FROM no_such_table;')
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  t.throws(() => migrate(db, dir), { message: new RegExp(`^migration ${next}-broken.sql failed: no such table`) })
  t.equal(db.pragma('user_version', { simple: true }), latest, 'the earlier ones stay')
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").all(), [], 'nothing of the broken one')
})

t.test('a gap in the numbering is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  writeFileSync(join(dir, '001-a.sql'), 'SELECT 1;')
  writeFileSync(join(dir, '003-c.sql'), 'SELECT 1;')
  t.throws(() => loadMigrations(dir), { message: 'migrations: expected version 2, found 003-c.sql' })
})

t.test('002 moves a version-1 database onto integer organization keys, keeping every row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  const v1 = join(dir, 'v1')
  cpSync(MIGRATIONS_DIR, v1, { recursive: true, filter: (src) => !/\/00[2-9]-[^/]*$/.test(src) })
  const file = join(dir, 'old.db')
  const raw = new Database(file)
  raw.pragma('foreign_keys = ON')
  t.same(migrate(raw, v1), [1])
  raw.exec(`
    INSERT INTO organizations (id, name, created) VALUES
      ('0a000000-0000-4000-8000-000000000002', 'zeta', '2026-01-01T00:00:00.000Z'),
      ('0a000000-0000-4000-8000-000000000001', 'acme', '2026-01-01T00:00:00.000Z');
    INSERT INTO users (id, email, created) VALUES ('0b000000-0000-4000-8000-000000000001', 'a@x.test', '2026-01-01T00:00:00.000Z');
    INSERT INTO memberships (user_id, org_id, role) VALUES
      ('0b000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000001', 'owner'),
      ('0b000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000002', 'member');
    INSERT INTO api_keys (id, key_hash, preview, user_id, org_id, created) VALUES
      ('0d000000-0000-4000-8000-000000000001', 'h', 'sk-...', '0b000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000002', '2026-01-01T00:00:00.000Z');
    INSERT INTO ai_secrets (id, org_id, name, type, metadata, secret, created, updated_at, secret_updated_at, secret_updated_by_user_id) VALUES
      ('0c000000-0000-4000-8000-000000000001', '0a000000-0000-4000-8000-000000000001', 'A', 'openai', '{"x":1}', 'sk-a', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z', NULL, NULL),
      ('0c000000-0000-4000-8000-000000000002', '0a000000-0000-4000-8000-000000000002', 'A', NULL, NULL, NULL, '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '2026-01-03T00:00:00.000Z', '0b000000-0000-4000-8000-000000000001');
  `)
  const before = raw.prepare('SELECT * FROM ai_secrets ORDER BY seq').all()
  raw.close()

  const db = openDatabase(file)
  t.teardown(() => db.close())
  t.equal(db.pragma('user_version', { simple: true }), latest)
  t.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are back on after the migration')
  t.same(db.pragma('foreign_key_check'), [])
  const after = db
    .prepare(`SELECT s.seq, s.id, o.id AS org_id, s.name, s.type, s.metadata, s.secret, s.created, s.updated_at,
                     s.secret_updated_at, s.secret_updated_by_user_id
              FROM ai_secrets s JOIN organizations o ON o.seq = s.org ORDER BY s.seq`)
    .all()
  t.same(after, before, 'every secret, in its organization, field for field')
  t.same(
    db.prepare('SELECT id, name FROM organizations ORDER BY seq').all(),
    [
      { id: '0a000000-0000-4000-8000-000000000002', name: 'zeta' },
      { id: '0a000000-0000-4000-8000-000000000001', name: 'acme' },
    ],
    'organizations in their insertion order',
  )
  t.equal((db.prepare('SELECT count(*) AS n FROM memberships').get() as { n: number }).n, 2)
  t.equal((db.prepare('SELECT count(*) AS n FROM api_keys').get() as { n: number }).n, 1)
  db.prepare("DELETE FROM organizations WHERE name = 'acme'").run()
  t.same(
    db.prepare('SELECT id FROM ai_secrets').pluck().all(),
    ['0c000000-0000-4000-8000-000000000002'],
    'deleting an organization still cascades to its secrets',
  )
  t.equal(
    (db.prepare('SELECT count(*) AS n FROM memberships').get() as { n: number }).n,
    1,
    '... and to its memberships',
  )
})

t.test('a migration that would break a foreign key is rolled back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  const next = String(latest + 1).padStart(3, '0')
  writeFileSync(
    join(dir, `${next}-dangling.sql`),
    "INSERT INTO memberships (user_id, org_id, role) VALUES ('nobody', 'nowhere', 'owner');",
  )
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  db.pragma('foreign_keys = ON')
  t.throws(() => migrate(db, dir), {
    message: new RegExp(
      `^migration ${next}-dangling.sql failed: 2 row\\(s\\) would break a foreign key \\(first: memberships -> `,
    ),
  })
  t.equal(db.pragma('user_version', { simple: true }), latest)
  t.equal((db.prepare('SELECT count(*) AS n FROM memberships').get() as { n: number }).n, 0, 'nothing of it stays')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again')
})

t.test('003 narrows the list index of a version-2 database, keeping every row and the list order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  const v2 = join(dir, 'v2')
  cpSync(MIGRATIONS_DIR, v2, { recursive: true, filter: (src) => !/\/00[3-9]-[^/]*$/.test(src) })
  const file = join(dir, 'old.db')
  const raw = new Database(file)
  raw.pragma('foreign_keys = ON')
  t.same(migrate(raw, v2), [1, 2])
  const user = '0b000000-0000-4000-8000-000000000001'
  raw.exec(`
    INSERT INTO organizations (id, name, created) VALUES
      ('0a000000-0000-4000-8000-000000000001', 'acme', '2026-01-01T00:00:00.000Z'),
      ('0a000000-0000-4000-8000-000000000002', 'zeta', '2026-01-01T00:00:00.000Z');
    INSERT INTO users (id, email, created) VALUES ('${user}', 'a@x.test', '2026-01-01T00:00:00.000Z');
    INSERT INTO memberships (user_id, org_id, role) VALUES ('${user}', '0a000000-0000-4000-8000-000000000001', 'owner');
    INSERT INTO api_keys (id, key_hash, preview, user_id, org_id, created) VALUES
      ('0d000000-0000-4000-8000-000000000001', '${hashKey('sk-old')}', 'sk-...old', '${user}', NULL, '2026-01-01T00:00:00.000Z');
  `)
  // Created times with ties (insertion order breaks them) and out of insertion order, in two organizations.
  const created = ['2026-01-02', '2026-01-03', '2026-01-02', '2026-01-01', '2026-01-03', '2026-01-02']
  const insert = raw.prepare(
    `INSERT INTO ai_secrets (id, org, name, type, metadata, secret, created, updated_at) VALUES (?, ?, ?, 'openai', '{"n":1}', 'sk-value', ?, ?)`,
  )
  // S2 and S5 in zeta, the others in acme.
  for (const [i, day] of created.entries()) {
    insert.run(
      `0c000000-0000-4000-8000-00000000000${i}`,
      i % 3 === 2 ? 2 : 1,
      `S${i}`,
      `${day}T00:00:00.000Z`,
      `${day}T00:00:00.000Z`,
    )
  }
  const before = raw.prepare('SELECT * FROM ai_secrets ORDER BY seq').all()
  raw.close()

  const db = openDatabase(file)
  t.equal(db.pragma('user_version', { simple: true }), latest)
  t.same(db.prepare('SELECT * FROM ai_secrets ORDER BY seq').all(), before, 'every secret, field for field')
  t.same(
    db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ai_secrets' AND sql IS NOT NULL ORDER BY name`,
      )
      .pluck()
      .all(),
    ['ai_secrets_id', 'ai_secrets_org_created', 'ai_secrets_org_name'],
  )
  // One organization's list reads the index backwards, in the list's order: no sort.
  const plan = db
    .prepare(
      `EXPLAIN QUERY PLAN SELECT id FROM ai_secrets WHERE org = 1 AND (created, seq) < (?, ?) ORDER BY created DESC, seq DESC LIMIT 10`,
    )
    .all('2027-01-01T00:00:00.000Z', 1e9)
    .map((r) => (r as { detail: string }).detail)
  t.match(plan.join(' | '), /SEARCH ai_secrets USING INDEX ai_secrets_org_created \(org=\? AND created<\?\)/)
  t.notMatch(plan.join(' | '), /TEMP B-TREE/, plan.join(' | '))
  db.close()

  // The mock on the upgraded file: acme's list, newest first, the later of two equal times first.
  const app = await buildApp({ db: file, logger: false })
  t.teardown(() => app.close())
  const list = await app.inject({ method: 'GET', url: '/v1/ai_secret', headers: { authorization: 'Bearer sk-old' } })
  t.equal(list.statusCode, 200)
  t.same(
    list.json().objects.map((s: { name: string }) => s.name),
    ['S4', 'S1', 'S0', 'S3'],
  )
  const del = await app.inject({
    method: 'DELETE',
    url: '/v1/ai_secret',
    headers: { authorization: 'Bearer sk-old' },
    payload: { name: 'S1' },
  })
  t.equal(del.json().id, '0c000000-0000-4000-8000-000000000001', 'a delete by name finds it')
})

t.test('004 makes ai_secrets.seq never given twice, keeping every row; seq goes on after the largest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'))
  const v3 = join(dir, 'v3')
  cpSync(MIGRATIONS_DIR, v3, { recursive: true, filter: (src) => !/\/00[4-9]-[^/]*$/.test(src) })
  const file = join(dir, 'old.db')
  const raw = new Database(file)
  raw.pragma('foreign_keys = ON')
  t.same(migrate(raw, v3), [1, 2, 3])
  raw.exec(`INSERT INTO organizations (id, name, created) VALUES ('0a000000-0000-4000-8000-000000000001', 'acme', 'c')`)
  const insert = raw.prepare(`INSERT INTO ai_secrets (id, org, name, created, updated_at) VALUES (?, 1, ?, 'c', 'c')`)
  for (let i = 1; i <= 3; i++) insert.run(`0c000000-0000-4000-8000-00000000000${i}`, `S${i}`)
  const before = raw.prepare('SELECT * FROM ai_secrets ORDER BY seq').all()
  raw.close()

  const db = openDatabase(file)
  t.equal(db.pragma('user_version', { simple: true }), latest)
  t.same(db.prepare('SELECT * FROM ai_secrets ORDER BY seq').all(), before, 'every secret, field for field')
  t.match(db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'ai_secrets'`).pluck().get(), /AUTOINCREMENT/)
  db.exec('DELETE FROM ai_secrets WHERE seq >= 2')
  db.prepare(
    `INSERT INTO ai_secrets (id, org, name, created, updated_at) VALUES ('0c000000-0000-4000-8000-0000000000ff', 1, 'NEW', 'c', 'c')`,
  ).run()
  t.equal(
    db.prepare(`SELECT seq FROM ai_secrets WHERE name = 'NEW'`).pluck().get(),
    4,
    'not 2: never a deleted secret\u2019s',
  )
  db.close()
})

t.test('a path that is no database file: the error names it (SQLite alone says "disk I/O error")', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'not-db-'))
  const text = join(dir, 'notes.db')
  writeFileSync(text, 'not a database, only some text that is longer than a header would be '.repeat(10))
  t.throws(() => openDatabase(text), { message: `database ${text}: file is not a database` })
  t.throws(() => openDatabase('/dev/zero'), { message: /^database \/dev\/zero: / }, 'a device')
})
