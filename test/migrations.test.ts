import { mkdtempSync, writeFileSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { openDatabase } from '../src/db/database.js'
import { loadMigrations, migrate } from '../src/db/migrate.js'
import { MIGRATIONS_DIR } from '../src/paths.js'

const latest = loadMigrations().length

t.test('a fresh database reaches the latest version; a second run changes nothing', async (t) => {
  const db = new Database(':memory:')
  t.teardown(() => db.close())
  t.same(migrate(db), Array.from({ length: latest }, (_, i) => i + 1))
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
  t.throws(() => openDatabase(file), { message: `database schema version ${latest + 1} is newer than this ai-secret-mock knows (${latest})` })
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
