import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { MIGRATIONS_DIR } from '../paths.js'

export interface Migration {
  version: number
  file: string
  sql: string
}

/** `NNN-name.sql` files, in version order; the number is the schema version it leads to. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => /^\d+-.+\.sql$/.test(f))
    .map((file) => ({ version: Number.parseInt(file, 10), file, sql: readFileSync(join(dir, file), 'utf8') }))
    .sort((a, b) => a.version - b.version)
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations: expected version ${i + 1}, found ${m.file}`)
  })
  return migrations
}

/**
 * Applies each pending migration in its own BEGIN IMMEDIATE transaction together with
 * `PRAGMA user_version`, so a failure leaves the database at the previous version.
 * Returns the versions applied.
 */
export function migrate(db: Database.Database, dir = MIGRATIONS_DIR): number[] {
  const migrations = loadMigrations(dir)
  const latest = migrations.length
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this ai-secret-mock knows (${latest}): use a newer ai-secret-mock or another DB_PATH`,
    )
  }
  const applied: number[] = []
  if (current === latest) return applied
  // A migration may rebuild a table that others refer to (SQLite's procedure for schema
  // changes ALTER TABLE cannot make): foreign keys are off while it runs, since the pragma
  // is a no-op inside a transaction, and checked before it commits.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number
  db.pragma('foreign_keys = OFF')
  try {
    for (const m of migrations.slice(current)) {
      const apply = db.transaction(() => {
        db.exec(m.sql)
        const broken = db.pragma('foreign_key_check') as { table: string; parent: string }[]
        if (broken.length > 0) {
          throw new Error(
            `${broken.length} row(s) would break a foreign key (first: ${broken[0]!.table} -> ${broken[0]!.parent})`,
          )
        }
        db.pragma(`user_version = ${m.version}`)
      })
      try {
        apply.immediate()
      } catch (cause) {
        throw new Error(`migration ${m.file} failed: ${(cause as Error).message}`, { cause })
      }
      applied.push(m.version)
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys}`)
  }
  return applied
}
