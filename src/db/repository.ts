import type { Statement } from 'better-sqlite3'
import type { AbortSignalLike } from '../fastify-types.js'
import type { Role } from '../schemas/seed.js'
import { previewSecret } from '../preview.js'
import type { AISecret } from '../schemas/ai-secret.js'
import { EndedByReset } from '../errors.js'
import { DETERMINISTIC_ID_PREFIX } from '../ids.js'
import type { Db } from './database.js'
import { DeletedSecrets, type ListPosition } from './deleted-secrets.js'

// Every SQL statement of the application lives here (and in migrations/): prepared once,
// named parameters, rows mapped to API field names at this boundary.

export type { Role }

export interface OrgAccess {
  id: string
  name: string
  role: Role
}

/** Who is asking: the user behind a key or token, and the organizations it spans. */
export interface Principal {
  userId: string
  email: string
  keyId: string | null
  orgs: OrgAccess[]
}

export interface SecretRow {
  seq: number
  id: string
  org_id: string
  name: string
  type: string | null
  metadata: string | null
  secret: string | null
  created: string
  updated_at: string
  secret_updated_at: string | null
  secret_updated_by_user_id: string | null
}

export interface NewSecret {
  id: string
  org_id: string
  name: string
  type: string | null
  metadata: Record<string, unknown> | null
  secret: string | null
  created: string
  updated_at: string
  secret_updated_at: string | null
  secret_updated_by_user_id: string | null
}

export interface ListQuery {
  orgIds: string[]
  ids?: string[]
  name?: string
  types?: string[]
  limit?: number
  /** Cursors: positions of secrets the caller has seen (and may see), deleted ones included. */
  startingAfter?: ListPosition
  endingBefore?: ListPosition
}

export function toAISecret(row: SecretRow): AISecret {
  return {
    id: row.id,
    created: row.created,
    updated_at: row.updated_at,
    secret_updated_at: row.secret_updated_at,
    org_id: row.org_id,
    name: row.name,
    type: row.type,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    secret_updated_by_user_id: row.secret_updated_by_user_id,
    preview_secret: previewSecret(row.secret),
  }
}

interface PrincipalRow {
  key_id: string | null
  user_id: string
  email: string
  org_id: string | null
  org_name: string | null
  role: Role | null
}

function toPrincipal(rows: PrincipalRow[]): Principal | null {
  const first = rows[0]
  if (first === undefined) return null
  return {
    userId: first.user_id,
    email: first.email,
    keyId: first.key_id,
    orgs: rows.filter((r) => r.org_id !== null).map((r) => ({ id: r.org_id!, name: r.org_name!, role: r.role! })),
  }
}

/** See Repository.insertSecrets. */
export const REBUILD_INDEXES_AT = 20_000

/**
 * ai_secrets refers to its organization by the integer organizations.seq (migration 002);
 * rows leave the repository with the organization's uuid as org_id, and callers name an
 * organization by its uuid (@org_id).
 */
const secretColumns = (orgId: string) =>
  `seq, id, ${orgId} AS org_id, name, type, metadata, secret, created, updated_at, secret_updated_at, secret_updated_by_user_id`
const SECRET = secretColumns('(SELECT o.id FROM organizations o WHERE o.seq = ai_secrets.org)')
/** SECRET for a statement that names its organization: org_id is the parameter, no lookup per row. */
const SECRET_IN_ORG = secretColumns('@org_id')
const ORG = '(SELECT seq FROM organizations WHERE id = @org_id)'

/** Just past every deterministic id: the prefix with its last character's next one. */
const DETERMINISTIC_ID_END = `${DETERMINISTIC_ID_PREFIX.slice(0, -2)}1`

export class Repository {
  /** Bumped by every change this process makes to organizations, users, memberships or keys. */
  private principalChanges = 0
  /** SQLite's count of commits by other connections: another process on the same file. */
  private readonly dataVersion: Statement
  /** Deletes in a transaction of their own: the row is answered only once its deletion is committed. */
  private readonly deleteTx: (stmt: Statement, params: object) => SecretRow | undefined
  /** Where deleted secrets stood in lists (for cursors); emptied by clearAll(). */
  readonly deleted = new DeletedSecrets()

  private readonly stmt

  constructor(readonly db: Db) {
    const p = (sql: string) => db.prepare(sql)
    this.dataVersion = p('PRAGMA data_version').pluck()
    // `DELETE … RETURNING` read with get() outside a transaction answers the row at the first
    // step and commits at the reset, whose error better-sqlite3 does not report: on a full disk
    // a delete answered its record and deleted nothing. all() steps the statement to its end,
    // where an autocommit statement commits, so a failed commit throws there (test/db/commit.test.ts),
    // without the BEGIN and COMMIT of a transaction (a fifth of a delete's time in the bench).
    this.deleteTx = (stmt, params) => (stmt.all(params) as SecretRow[])[0]
    this.stmt = {
      principalByKeyHash: p(`
        SELECT k.id AS key_id, u.id AS user_id, u.email, o.id AS org_id, o.name AS org_name, m.role
        FROM api_keys k
        JOIN users u ON u.id = k.user_id
        LEFT JOIN memberships m ON m.user_id = u.id AND (k.org_id IS NULL OR m.org_id = k.org_id)
        LEFT JOIN organizations o ON o.id = m.org_id
        WHERE k.key_hash = @hash
        ORDER BY o.name`),
      principalByEmail: p(`
        SELECT NULL AS key_id, u.id AS user_id, u.email, o.id AS org_id, o.name AS org_name, m.role
        FROM users u
        LEFT JOIN memberships m ON m.user_id = u.id
        LEFT JOIN organizations o ON o.id = m.org_id
        WHERE u.email = @email
        ORDER BY o.name`),
      deleteSecretByName: p(`DELETE FROM ai_secrets WHERE org = ${ORG} AND name = @name RETURNING ${SECRET_IN_ORG}`),
      deleteSecretById: p(`DELETE FROM ai_secrets WHERE id = @id AND org = ${ORG} RETURNING ${SECRET_IN_ORG}`),
      secretRowByOrgName: p(`SELECT ${SECRET_IN_ORG} FROM ai_secrets WHERE org = ${ORG} AND name = @name`),
      secretRowById: p(`SELECT ${SECRET} FROM ai_secrets WHERE id = @id`),
      updateSecret: p(`
        UPDATE ai_secrets SET name = @name, type = @type, metadata = @metadata, secret = @secret,
          updated_at = @updated_at, secret_updated_at = @secret_updated_at,
          secret_updated_by_user_id = @secret_updated_by_user_id
        WHERE id = @id RETURNING ${SECRET}`),
      insertOrg: p(`INSERT INTO organizations (id, name, created) VALUES (@id, @name, @created)`),
      insertUser: p(`INSERT INTO users (id, email, created) VALUES (@id, @email, @created)`),
      insertMembership: p(`INSERT INTO memberships (user_id, org_id, role) VALUES (@user_id, @org_id, @role)`),
      insertKey: p(`
        INSERT INTO api_keys (id, key_hash, preview, user_id, org_id, created)
        VALUES (@id, @key_hash, @preview, @user_id, @org_id, @created)`),
      orgByName: p(`SELECT id, name FROM organizations WHERE name = @name`),
      userByEmail: p(`SELECT id, email FROM users WHERE email = @email`),
      membership: p(`SELECT role FROM memberships WHERE user_id = @user_id AND org_id = @org_id`),
      keyByHash: p(`SELECT id FROM api_keys WHERE key_hash = @hash`),
      idTaken: p(`
        SELECT 1 FROM organizations WHERE id = @id UNION ALL SELECT 1 FROM users WHERE id = @id
        UNION ALL SELECT 1 FROM api_keys WHERE id = @id UNION ALL SELECT 1 FROM ai_secrets WHERE id = @id`),
      secretByOrgName: p(`SELECT id FROM ai_secrets WHERE org = ${ORG} AND name = @name`),
      orgHasSecrets: p(`SELECT EXISTS (SELECT 1 FROM ai_secrets WHERE org = ${ORG}) AS found`),
      // The range is that of deterministic ids (src/ids.ts): read off each table's id index.
      largestDeterministicId: p(`
        SELECT max(id) FROM (
          SELECT max(id) AS id FROM organizations WHERE id >= @low AND id < @high
          UNION ALL SELECT max(id) FROM users WHERE id >= @low AND id < @high
          UNION ALL SELECT max(id) FROM api_keys WHERE id >= @low AND id < @high
          UNION ALL SELECT max(id) FROM ai_secrets WHERE id >= @low AND id < @high)`).pluck(),
      resets: p(`SELECT count FROM resets WHERE id = 1`).pluck(),
      isEmpty: p(`SELECT NOT EXISTS (SELECT 1 FROM organizations) AND NOT EXISTS (SELECT 1 FROM users) AS empty`),
    }
  }

  /**
   * Changes as often as what principals are made of may have changed: by this process (a seed, a
   * reset), or by any commit of another process on the same file (SQLite's data_version), so that
   * a cache of principals (src/auth/authenticate.ts) never answers from a stale copy.
   */
  get generation(): string {
    return `${this.principalChanges}:${this.dataVersion.get() as number}`
  }

  private resetsSeen = { generation: '', count: 0 }

  /**
   * How many resets the database has had (migration 005), by this process or another on the same
   * file; read again only when the database changed (generation).
   */
  get resets(): number {
    const generation = this.generation
    if (generation !== this.resetsSeen.generation)
      this.resetsSeen = { generation, count: this.stmt.resets.get() as number }
    return this.resetsSeen.count
  }

  principalByKeyHash(hash: string): Principal | null {
    return toPrincipal(this.stmt.principalByKeyHash.all({ hash }) as PrincipalRow[])
  }

  principalByEmail(email: string): Principal | null {
    return toPrincipal(this.stmt.principalByEmail.all({ email }) as PrincipalRow[])
  }

  /**
   * Deletes and returns the secret, or null when there was none: one statement, so
   * concurrent deletes cannot both win. Its list position is remembered (see DeletedSecrets).
   */
  deleteSecretByName(orgId: string, name: string): SecretRow | null {
    return this.deletedRow(this.deleteTx(this.stmt.deleteSecretByName, { org_id: orgId, name }))
  }

  deleteSecretById(id: string, orgId: string): SecretRow | null {
    return this.deletedRow(this.deleteTx(this.stmt.deleteSecretById, { id, org_id: orgId }))
  }

  private deletedRow(row: SecretRow | undefined): SecretRow | null {
    if (row === undefined) return null
    this.deleted.remember(row)
    return row
  }

  /** Where the secret with this id stands in lists, or stood before it was deleted; null when unknown. */
  listPosition(id: string): ListPosition | null {
    return this.secretById(id) ?? this.deleted.position(id)
  }

  secretByOrgName(orgId: string, name: string): SecretRow | null {
    return (this.stmt.secretRowByOrgName.get({ org_id: orgId, name }) as SecretRow | undefined) ?? null
  }

  secretById(id: string): SecretRow | null {
    return (this.stmt.secretRowById.get({ id }) as SecretRow | undefined) ?? null
  }

  /** Writes every changeable field of a secret; returns the new row. */
  updateSecret(s: Omit<NewSecret, 'org_id' | 'created'>): SecretRow {
    return this.stmt.updateSecret.get({
      ...s,
      metadata: s.metadata === null ? null : JSON.stringify(s.metadata),
    }) as SecretRow
  }

  /** Inserts and returns the new row. */
  createSecret(s: NewSecret): SecretRow {
    this.insertSecrets([s])
    return this.secretById(s.id)!
  }

  private readonly listStmts = new Map<string, Statement>()

  /**
   * Newest first, insertion order breaking ties; a cursor is a (created, seq) position, and
   * ending_before reads the page just before it oldest first, then turns it round. The
   * statement holds only the filters asked for (each combination prepared once, on first
   * use): `@x IS NULL OR ...` clauses for absent filters cost more than the rows. With one
   * organization the (org, created, seq) index yields rows already in order and LIMIT stops
   * early; across several, rows are gathered and sorted.
   */
  listSecrets(q: ListQuery): SecretRow[] {
    const at = q.endingBefore ?? q.startingAfter
    const backwards = q.endingBefore !== undefined
    const one = q.orgIds.length === 1
    const where: string[] = []
    // Past what SQLite's LIMIT takes (1e21, Infinity), a limit is no limit.
    const params: Record<string, unknown> = {
      limit: q.limit === undefined || !Number.isSafeInteger(q.limit) ? -1 : q.limit,
    }
    if (one) {
      where.push(`org = ${ORG}`)
      params.org_id = q.orgIds[0]
    } else {
      where.push('org IN (SELECT seq FROM organizations WHERE id IN (SELECT value FROM json_each(@orgs)))')
      params.orgs = JSON.stringify(q.orgIds)
    }
    if (q.ids !== undefined) {
      where.push('id IN (SELECT value FROM json_each(@ids))')
      params.ids = JSON.stringify(q.ids)
    }
    if (q.name !== undefined) {
      where.push('name = @name')
      params.name = q.name
    }
    if (q.types !== undefined) {
      where.push('type IN (SELECT value FROM json_each(@types))')
      params.types = JSON.stringify(q.types)
    }
    if (at !== undefined) {
      where.push(backwards ? '(created, seq) > (@created, @seq)' : '(created, seq) < (@created, @seq)')
      params.created = at.created
      params.seq = at.seq
    }
    const order = backwards ? 'created ASC, seq ASC' : 'created DESC, seq DESC'
    const sql = `SELECT ${one ? SECRET_IN_ORG : SECRET} FROM ai_secrets WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT @limit`
    let stmt = this.listStmts.get(sql)
    if (stmt === undefined) this.listStmts.set(sql, (stmt = this.db.prepare(sql)))
    const rows = stmt.all(params) as SecretRow[]
    return backwards ? rows.reverse() : rows
  }

  // --- seeding --------------------------------------------------------------------------

  /**
   * The counter of the largest deterministic id stored (`00000000-0000-4000-8000-<12 hex digits>`)
   * in any table, or 0 when there is none: deterministic ids continue after it (src/ids.ts).
   */
  largestDeterministicId(): number {
    const id = this.stmt.largestDeterministicId.get({ low: DETERMINISTIC_ID_PREFIX, high: DETERMINISTIC_ID_END }) as
      | string
      | null
    return id === null ? 0 : Number.parseInt(id.slice(DETERMINISTIC_ID_PREFIX.length), 16) || 0
  }

  isEmpty(): boolean {
    return (this.stmt.isEmpty.get() as { empty: number }).empty === 1
  }

  orgByName(name: string): { id: string; name: string } | null {
    return (this.stmt.orgByName.get({ name }) as { id: string; name: string } | undefined) ?? null
  }

  userByEmail(email: string): { id: string; email: string } | null {
    return (this.stmt.userByEmail.get({ email }) as { id: string; email: string } | undefined) ?? null
  }

  hasMembership(userId: string, orgId: string): boolean {
    return this.stmt.membership.get({ user_id: userId, org_id: orgId }) !== undefined
  }

  keyHashExists(hash: string): boolean {
    return this.stmt.keyByHash.get({ hash }) !== undefined
  }

  idTaken(id: string): boolean {
    return this.stmt.idTaken.get({ id }) !== undefined
  }

  secretNameTaken(orgId: string, name: string): boolean {
    return this.stmt.secretByOrgName.get({ org_id: orgId, name }) !== undefined
  }

  insertOrg(org: { id: string; name: string; created: string }): void {
    this.stmt.insertOrg.run(org)
    this.principalChanges++
  }

  insertUser(user: { id: string; email: string; created: string }): void {
    this.stmt.insertUser.run(user)
    this.principalChanges++
  }

  insertMembership(m: { user_id: string; org_id: string; role: Role }): void {
    this.stmt.insertMembership.run(m)
    this.principalChanges++
  }

  insertKey(key: {
    id: string
    key_hash: string
    preview: string
    user_id: string
    org_id: string | null
    created: string
  }): void {
    this.stmt.insertKey.run(key)
    this.principalChanges++
  }

  orgHasSecrets(orgId: string): boolean {
    return (this.stmt.orgHasSecrets.get({ org_id: orgId }) as { found: number }).found === 1
  }

  private bulkStmts?: { insert: Statement; count: Statement; indexes: Statement; orgSeqs: Statement }

  /**
   * Inserts many secrets, in order (call it inside transaction()). When they are at least
   * REBUILD_INDEXES_AT and at least as many as the table holds, ai_secrets' indexes are
   * dropped first and built again after, by sorting: several times faster than updating
   * three B-trees row by row. Their definitions come from the schema itself
   * (sqlite_master), so they stay those of migrations/. Uniqueness is still enforced when
   * they are rebuilt; the seed checks names and ids before, to name the offending entry.
   */
  insertSecrets(rows: NewSecret[]): void {
    for (const _ of this.insertSecretsInSteps(rows));
  }

  /**
   * insertSecrets in steps: yields after every `chunk` rows and after each index it builds
   * again, so that a caller driving it (transactionInSteps) can give the event loop a turn.
   */
  *insertSecretsInSteps(rows: NewSecret[], chunk = 10_000): Generator<void, void> {
    const b = (this.bulkStmts ??= {
      // Positional parameters: binding ten named ones from an object costs more than the insert.
      insert: this.db.prepare(`
        INSERT INTO ai_secrets (id, org, name, type, metadata, secret, created, updated_at,
                                secret_updated_at, secret_updated_by_user_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      orgSeqs: this.db.prepare(`SELECT id, seq FROM organizations`).raw(),
      count: this.db.prepare(`SELECT count(*) FROM ai_secrets`).pluck(),
      indexes: this.db.prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ai_secrets' AND sql IS NOT NULL`,
      ),
    })
    const rebuild = rows.length >= REBUILD_INDEXES_AT && rows.length >= (b.count.get() as number)
    const indexes = rebuild ? (b.indexes.all() as { name: string; sql: string }[]) : []
    for (const i of indexes) this.db.exec(`DROP INDEX "${i.name}"`)
    const seqs = new Map(b.orgSeqs.all() as [string, number][])
    for (let n = 0; n < rows.length; n++) {
      if (n > 0 && n % chunk === 0) yield
      const r = rows[n]!
      const org = seqs.get(r.org_id)
      // Only a request admitted before another process's reset names an organization no longer there.
      if (org === undefined) throw new EndedByReset()
      b.insert.run(
        r.id,
        org,
        r.name,
        r.type,
        r.metadata === null ? null : JSON.stringify(r.metadata),
        r.secret,
        r.created,
        r.updated_at,
        r.secret_updated_at,
        r.secret_updated_by_user_id,
      )
    }
    for (const i of indexes) {
      yield
      this.db.exec(i.sql)
    }
  }

  /** Runs fn in one IMMEDIATE transaction: all of it or none of it. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  /**
   * Runs `steps` (a generator that yields between chunks of its work) in one IMMEDIATE
   * transaction, giving the event loop a turn at each yield, so that a signal can be
   * handled while a big seed is applied at start-up. Once `signal` is aborted, the
   * transaction is rolled back (nothing of it stays) and this rejects with the signal's
   * reason; on any error, rolled back too. Only for start-up: the app serves no request
   * meanwhile (POST /_mock/reset and /_mock/seed stay one synchronous transaction).
   */
  async transactionInSteps<T>(steps: Generator<void, T>, signal?: AbortSignalLike): Promise<T> {
    signal?.throwIfAborted()
    this.db.exec('BEGIN IMMEDIATE')
    try {
      for (;;) {
        const step = steps.next()
        if (step.done === true) {
          this.db.exec('COMMIT')
          return step.value
        }
        await new Promise((resolve) => setImmediate(resolve))
        signal?.throwIfAborted()
      }
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK')
      throw err
    }
  }

  // --- control plane (POST /_mock/reset, GET /_mock/state) ------------------------------

  private controlStmts?: ReturnType<Repository['prepareControl']>

  private prepareControl() {
    const p = (sql: string) => this.db.prepare(sql)
    return {
      clear: [
        p(`DELETE FROM ai_secrets`),
        p(`DELETE FROM api_keys`),
        p(`DELETE FROM memberships`),
        p(`DELETE FROM users`),
        p(`DELETE FROM organizations`),
        p(`UPDATE resets SET count = count + 1 WHERE id = 1`),
      ],
      organizations: p(`SELECT id, name, created FROM organizations ORDER BY rowid`),
      users: p(`SELECT id, email, created FROM users ORDER BY rowid`),
      memberships: p(`
        SELECT m.user_id, o.name AS org, m.role FROM memberships m
        JOIN organizations o ON o.id = m.org_id ORDER BY o.name`),
      apiKeys: p(`
        SELECT k.id, k.preview, u.email AS user, o.name AS org, k.created FROM api_keys k
        JOIN users u ON u.id = k.user_id LEFT JOIN organizations o ON o.id = k.org_id
        ORDER BY k.rowid`),
      secrets: p(`SELECT ${SECRET} FROM ai_secrets ORDER BY seq`),
    }
  }

  private get control() {
    return (this.controlStmts ??= this.prepareControl())
  }

  /**
   * Deletes every row of every table and counts a reset (call it inside transaction()), and
   * forgets deleted positions.
   */
  clearAll(): void {
    for (const s of this.control.clear) s.run()
    this.deleted.clear()
    this.principalChanges++
  }

  /** Everything stored, for GET /_mock/state: key hashes and secret values stay inside. */
  state(): StoreState {
    const c = this.control
    const memberships = new Map<string, Record<string, Role>>()
    for (const m of c.memberships.all() as { user_id: string; org: string; role: Role }[]) {
      const ms = memberships.get(m.user_id) ?? {}
      ms[m.org] = m.role
      memberships.set(m.user_id, ms)
    }
    const users = c.users.all() as { id: string; email: string; created: string }[]
    return {
      organizations: c.organizations.all() as StoreState['organizations'],
      users: users.map((u) => ({ ...u, memberships: memberships.get(u.id) ?? {} })),
      api_keys: c.apiKeys.all() as StoreState['api_keys'],
      ai_secrets: (c.secrets.all() as SecretRow[]).map(toAISecret),
    }
  }
}

/** What GET /_mock/state shows. */
export interface StoreState {
  organizations: { id: string; name: string; created: string }[]
  users: { id: string; email: string; created: string; memberships: Record<string, Role> }[]
  api_keys: { id: string; preview: string; user: string; org: string | null; created: string }[]
  ai_secrets: AISecret[]
}
