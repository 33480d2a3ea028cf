import type { Acted } from './auth/hooks.js'
import type { Clock } from './clock.js'
import type { ListPosition } from './db/deleted-secrets.js'
import { toAISecret, type OrgAccess, type Principal, type Repository, type SecretRow } from './db/repository.js'
import { ApiError } from './errors.js'
import type { RecordIds } from './ids.js'
import type { AISecret, CreateAISecret, PatchAISecret } from './schemas/ai-secret.js'

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * PATCH's metadata merge: objects merge key by key, at every depth; anything else
 * (arrays, strings, null) replaces. Keys are defined, never assigned, so a key named
 * `__proto__` is data and cannot reach a prototype.
 */
export function deepMerge(base: Json, patch: Json): Json {
  const out: Json = {}
  const put = (k: string, v: unknown) =>
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  for (const [k, v] of Object.entries(base)) put(k, v)
  for (const [k, v] of Object.entries(patch)) {
    const prev = Object.hasOwn(out, k) ? out[k] : undefined
    put(k, isObject(v) && isObject(prev) ? deepMerge(prev, v) : v)
  }
  return out
}

/**
 * The AI-secrets resource: the rules of the upstream operations (openapi/upstream/ai_secret_spec.json)
 * and of what the real server was recorded answering (RECORDED-BEHAVIOUR.md), over the
 * repository. Each operation is given the organization(s) it may act in (src/auth/organization.ts:
 * one rule for every operation) and answers the organization it acted in with its record.
 */
export class AiSecrets {
  constructor(
    private readonly repo: Repository,
    private readonly clock: Clock,
    private readonly ids: RecordIds,
  ) {}

  /** DELETE by name: the deleted record, or the one 400 for absent and not allowed alike. */
  deleteByName(org: OrgAccess, name: string): Acted<AISecret> {
    // A member may not delete: the same answer as for an absent secret, and nothing changes.
    const row = org.role === 'owner' ? this.repo.deleteSecretByName(org.id, name) : null
    if (row === null) throw new ApiError('missing_access', { action: 'delete', name })
    return { value: toAISecret(row), org }
  }

  /** POST: creates, or answers the existing record of that name unchanged (`existing`). */
  create(principal: Principal, org: OrgAccess, body: CreateAISecret): Acted<{ secret: AISecret; existing: boolean }> {
    if (org.role !== 'owner') {
      throw new ApiError('write_forbidden', { action: 'create', name: body.name, org: org.name })
    }
    const value = this.repo.transaction(() => {
      const found = this.repo.secretByOrgName(org.id, body.name)
      if (found !== null) return { secret: toAISecret(found), existing: true }
      return { secret: toAISecret(this.insert(principal, org, body)), existing: false }
    })
    return { value, org }
  }

  /**
   * PUT: creates, or replaces the record of that name, keeping its id and created. An omitted
   * secret is left as it was (as upstream documents); GUESS: an omitted type or metadata is
   * replaced by null, since the rest of the record is "replaced with the provided fields".
   */
  replace(principal: Principal, org: OrgAccess, body: CreateAISecret): Acted<AISecret> {
    if (org.role !== 'owner') {
      throw new ApiError('write_forbidden', { action: 'create', name: body.name, org: org.name })
    }
    const row = this.repo.transaction(() => {
      const found = this.repo.secretByOrgName(org.id, body.name)
      if (found === null) return this.insert(principal, org, body)
      const now = this.clock.now().toISOString()
      const secretChanged = body.secret !== undefined
      return this.repo.updateSecret({
        id: found.id,
        name: found.name,
        type: body.type ?? null,
        metadata: body.metadata ?? null,
        secret: secretChanged ? (body.secret ?? null) : found.secret,
        updated_at: now,
        secret_updated_at: secretChanged ? now : found.secret_updated_at,
        secret_updated_by_user_id: secretChanged ? principal.userId : found.secret_updated_by_user_id,
      })
    })
    return { value: toAISecret(row), org }
  }

  private insert(principal: Principal, org: OrgAccess, body: CreateAISecret): SecretRow {
    const now = this.clock.now().toISOString()
    const secret = body.secret ?? null
    return this.repo.createSecret({
      id: this.ids.newId(),
      org_id: org.id,
      name: body.name,
      type: body.type ?? null,
      metadata: body.metadata ?? null,
      secret,
      created: now,
      updated_at: now,
      secret_updated_at: secret === null ? null : now,
      secret_updated_by_user_id: secret === null ? null : principal.userId,
    })
  }

  list(
    orgs: OrgAccess[],
    q: {
      limit?: number | null
      starting_after?: string
      ending_before?: string
      ids?: string[]
      ai_secret_name?: string
      ai_secret_type?: string[]
    },
  ): AISecret[] {
    if (q.starting_after !== undefined && q.ending_before !== undefined) throw new ApiError('both_cursors')
    const orgIds = orgs.map((o) => o.id)
    // A cursor names a secret the key can list, or one it could list before it was deleted
    // (GUESS: see DeletedSecrets): it keeps its position. Any other id is a 400.
    const cursor = (param: 'starting_after' | 'ending_before', id: string | undefined): ListPosition | undefined => {
      if (id === undefined) return undefined
      const at = this.repo.listPosition(id.toLowerCase())
      if (at === null || !orgIds.includes(at.org_id)) throw new ApiError('unknown_cursor', { param, id })
      return at
    }
    const startingAfter = cursor('starting_after', q.starting_after)
    const endingBefore = cursor('ending_before', q.ending_before)
    return this.repo
      .listSecrets({
        orgIds,
        ids: q.ids?.map((id) => id.toLowerCase()),
        name: q.ai_secret_name,
        types: q.ai_secret_type,
        limit: q.limit ?? undefined,
        startingAfter,
        endingBefore,
      })
      .map(toAISecret)
  }

  /**
   * The secret with this id in one of `orgs` (the request's scope), or the one combined answer
   * for absent, foreign and not allowed alike: the recorded 403 for a read, the recorded 400 for
   * a delete (RECORDED-BEHAVIOUR.md; GUESS: an update answers as a delete).
   */
  private visible(
    orgs: OrgAccess[],
    id: string,
    action: 'read' | 'update' | 'delete',
  ): { row: SecretRow; org: OrgAccess } {
    const row = this.repo.secretById(id.toLowerCase())
    const org = row === null ? undefined : orgs.find((o) => o.id === row.org_id)
    if (row === null || org === undefined || (action !== 'read' && org.role !== 'owner')) {
      throw action === 'read'
        ? new ApiError('missing_read_access_id', { id })
        : new ApiError('missing_access_id', { action, id })
    }
    return { row, org }
  }

  get(orgs: OrgAccess[], id: string): Acted<AISecret> {
    const { row, org } = this.visible(orgs, id, 'read')
    return { value: toAISecret(row), org }
  }

  /**
   * PATCH: the given fields change; metadata is deep-merged. Upstream: "we do not support
   * removing fields or setting them to null", so a null field is left as it is.
   */
  patch(principal: Principal, orgs: OrgAccess[], id: string, body: PatchAISecret): Acted<AISecret> {
    return this.repo.transaction(() => {
      const { row, org } = this.visible(orgs, id, 'update')
      const now = this.clock.now().toISOString()
      const name = body.name ?? row.name
      if (name !== row.name && this.repo.secretByOrgName(org.id, name) !== null) {
        throw new ApiError('name_taken', { name, org: org.name })
      }
      const secretChanged = body.secret !== undefined && body.secret !== null
      const metadata = body.metadata === undefined || body.metadata === null ? null : body.metadata
      const current = row.metadata === null ? null : (JSON.parse(row.metadata) as Json)
      const updated = this.repo.updateSecret({
        id: row.id,
        name,
        type: body.type ?? row.type,
        metadata: metadata === null ? current : deepMerge(current ?? {}, metadata),
        secret: secretChanged ? body.secret! : row.secret,
        updated_at: now,
        secret_updated_at: secretChanged ? now : row.secret_updated_at,
        secret_updated_by_user_id: secretChanged ? principal.userId : row.secret_updated_by_user_id,
      })
      return { value: toAISecret(updated), org }
    })
  }

  deleteById(orgs: OrgAccess[], id: string): Acted<AISecret> {
    const { org } = this.visible(orgs, id, 'delete')
    // The row may have gone since it was read: the delete itself decides, once.
    const row = this.repo.deleteSecretById(id.toLowerCase(), org.id)
    if (row === null) throw new ApiError('missing_access_id', { action: 'delete', id })
    return { value: toAISecret(row), org }
  }
}
