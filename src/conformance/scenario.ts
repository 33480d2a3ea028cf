// The conformance scenario: one fixed sequence of exchanges with the AI-secrets resource that
// one API key can go through safely on a real account, recorded as a transcript.

import { randomBytes, randomUUID } from 'node:crypto'
import { RequestFailed, Runner, type Request, type SecretRef } from './runner.js'
import { Normaliser, type Exchange, type Transcript } from './transcript.js'

/** The version of the scenario below; bump it when exchanges are added, removed or changed. */
export const SCENARIO_VERSION = 'ai_secret/1'

/**
 * The values the run stores as secrets: dummies, never anyone's key. They never reach a
 * transcript (it shows `<dummy-1>`…), only the server's own `preview_secret` of them.
 */
export const DUMMY_SECRETS = [
  'sk-aismock-dummy-value-000001',
  'sk-aismock-dummy-value-000002',
  'sk-aismock-dummy-value-000003',
] as const

/** The `Origin` the CORS preflights send. */
export const ORIGIN = 'https://aismock-conformance.example'

export interface ScenarioOptions {
  /** The API's base URL (`https://api.braintrust.dev`); a trailing slash is dropped. */
  baseUrl: string
  apiKey: string
  /** The organization to act in; needed when the key spans several, and for two list exchanges. */
  orgName?: string
  /** Aborting stops the run at once; the cleanup still runs. */
  signal?: AbortSignal
  /** One line per exchange, per created and per removed secret. Default: nothing. */
  log?: (line: string) => void
  /** Per request. Default 30 000 ms. */
  timeoutMs?: number
  /** The random part of the names (default: 8 fresh random characters). */
  runToken?: string
}

export interface ScenarioResult {
  transcript: Transcript
  /** The run's prefix, `aismock-conformance-<token>`. */
  prefix: string
  created: SecretRef[]
  removed: SecretRef[]
  /** What the cleanup could not remove, with why: empty unless something went wrong. */
  left: (SecretRef & { reason: string })[]
}

/** A step of the scenario the run cannot go on without failed: the run stops there (and cleans up). */
export class ScenarioStopped extends Error {
  override name = 'ScenarioStopped'
}

/** A fresh random token for the names: 8 characters of [a-z0-9]. */
export function newRunToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('')
}

/**
 * Runs the scenario and cleans up after it, whatever happens. Every name the run writes is
 * `aismock-conformance-<token>-<letter>`; every list it sends is filtered to the run's own
 * secrets (by `ids` or `ai_secret_name`), and every id it sends is one of the run's or a fresh
 * random uuid, so it never reads nor touches another secret of the account. The values it
 * stores are {@link DUMMY_SECRETS}.
 *
 * The exchanges, in order (`a`, `b`, `c` are the run's three secrets; ORG is `--org-name`,
 * sent as `org_name` in every write and the cleanup when given; FOREIGN is
 * `aismock-conformance-<token>-elsewhere`, an organization the key does not span):
 *
 *  1. `cors-preflight`: OPTIONS /v1/ai_secret with `Origin` and `Access-Control-Request-*`, no key.
 *  2. `cors-preflight-by-id`: the same on /v1/ai_secret/{unknown id}.
 *  3. `no-key`: GET /v1/ai_secret?ai_secret_name=a without `Authorization`: 401.
 *  4. `wrong-key`: the same with a key no server knows: 401.
 *  5. `create`: POST a (openai, secret 1, metadata `{team, nested: {first}}`).
 *  6. `create-existing`: POST a again with other fields: the existing record, unchanged, `x-bt-found-existing: true`.
 *  7. `create-b`: POST b (anthropic, secret 2, no metadata).
 *  8. `put-create-c`: PUT c (openai, no secret): created; `preview_secret` null.
 *  9. `get`: GET /v1/ai_secret/{a}.
 * 10. `patch-metadata`: PATCH a `{metadata: {nested: {second}, added}}`: metadata deep-merged.
 * 11. `patch-nulls`: PATCH a `{type: null, metadata: null}`: nothing changes (upstream: no setting to null).
 * 12. `list-ids`: GET ?ids=a&ids=b&ids=c (repeated, as the spec says): c, b, a (newest first).
 * 13. `list-ids-comma-type`: GET ?ids=a,b,c&ai_secret_type=anthropic (comma-joined, as the official client sends): b.
 * 14. `list-name`: GET ?ai_secret_name=b: b.
 * 15. `list-org-name`: GET ?ids=…&org_name=ORG (needs ORG).
 * 16. `list-org-header`: GET ?ids=… with `x-bt-org-name: ORG` (needs ORG).
 * 17. `list-page-1`: GET ?ids=…&limit=1: c.
 * 18. `list-starting-after`: GET ?ids=…&limit=1&starting_after=c: b.
 * 19. `list-ending-before`: GET ?ids=…&limit=1&ending_before=a: the page just before a.
 * 20. `delete-id-while-paginating`: DELETE /v1/ai_secret/{c}, `content-type: application/json` and an empty body (as
 * the official client sends).
 * 21. `list-after-deleted-cursor`: GET ?ids=…&limit=1&starting_after=c (c deleted since): the next page of a
 * list-and-delete loop.
 * 22. `get-deleted`: GET /v1/ai_secret/{c}.
 * 23. `delete-id-again`: DELETE /v1/ai_secret/{c} again.
 * 24. `delete-name`: DELETE /v1/ai_secret `{name: b, org_name: ORG}`: the deleted record.
 * 25. `delete-name-again`: the same again.
 * 26. `delete-name-without-org-name`: DELETE `{name: b}`: for a key in several organizations, the ambiguous write; for
 * a key in one, as 25.
 * 27. `put-replace`: PUT a (openai, secret 3, no metadata): same id and created; what becomes of the omitted metadata.
 * 28. `get-unknown-id`: GET /v1/ai_secret/{a random uuid}.
 * 29. `patch-unknown-id`: PATCH /v1/ai_secret/{a random uuid}.
 * 30. `get-not-a-uuid`: GET /v1/ai_secret/not-a-uuid.
 * 31. `create-bad-body`: POST `{name: …-bad-body, metadata: "not an object"}`.
 * 32. `create-not-json`: POST a body that is not JSON.
 * 33. `delete-name-without-name`: DELETE /v1/ai_secret `{}`.
 * 34. `list-foreign-org`: GET ?ids=a&org_name=FOREIGN.
 * 35. `delete-name-foreign-org`: DELETE `{name: a, org_name: FOREIGN}`.
 * 36. `list-foreign-org-header`: GET ?ids=a with `x-bt-org-name: FOREIGN`.
 * 37. `delete-id`: DELETE /v1/ai_secret/{a}: the deleted record.
 * 38. `list-after-all-deleted`: GET ?ids=a,b,c: no objects.
 *
 * Whether the key spans several organizations is told by 25 and 26: the same delete, with and
 * without `org_name`, answered alike (one organization) or not (several). Without ORG, both
 * are sent without `org_name`, and a key in several organizations stops the run at 5 (the
 * create needs one), with a hint to pass `--org-name`.
 *
 * Steps 5, 7 and 8 must answer a record (2xx), or the run stops: the rest refers to them.
 * Any other answer is recorded as it is: the transcript is the result, and the comparison
 * judges it. The cleanup then removes whatever of the run's is left (normally nothing).
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const token = options.runToken ?? newRunToken()
  const prefix = `aismock-conformance-${token}`
  const log = options.log ?? (() => {})
  const orgName = options.orgName
  const signal = options.signal ?? new AbortController().signal
  const runner = new Runner({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    apiKey: options.apiKey,
    prefix: `${prefix}-`,
    orgName,
    signal,
    timeoutMs: options.timeoutMs,
    log,
  })
  const normaliser = new Normaliser({
    runToken: token,
    orgName,
    redact: [[options.apiKey, '<api-key>'], ...DUMMY_SECRETS.map((s, i): [string, string] => [s, `<dummy-${i + 1}>`])],
  })
  const unknownId = randomUUID()
  normaliser.label(unknownId, '<unknown-id>')

  const transcript: Transcript = {
    scenario: SCENARIO_VERSION,
    run: { org_name_given: orgName !== undefined, key_spans_several_organizations: null },
    exchanges: [],
  }
  const withOrg = <T extends object>(body: T): T & { org_name?: string } =>
    orgName === undefined ? body : { ...body, org_name: orgName }

  async function exchange(name: string, req: Request): Promise<{ ex: Exchange; json: Record<string, unknown> | null }> {
    if (signal.aborted) throw new RequestFailed('interrupted')
    const raw = await runner.send(name, req)
    const ex = normaliser.exchange(raw)
    transcript.exchanges.push(ex)
    log(`${String(transcript.exchanges.length).padStart(3)} ${name.padEnd(30)} ${req.method.padEnd(7)} ${raw.status}`)
    let json: Record<string, unknown> | null = null
    if (raw.status >= 200 && raw.status <= 299) {
      try {
        json = JSON.parse(raw.text) as Record<string, unknown>
      } catch {
        json = null
      }
    }
    return { ex, json }
  }
  function skip(name: string, why: string): void {
    transcript.exchanges.push({ name, skipped: why })
    log(`    ${name.padEnd(30)} skipped: ${why}`)
  }
  async function created(name: string, req: Request): Promise<string> {
    const { ex, json } = await exchange(name, req)
    const id = json?.id
    if (typeof id !== 'string') {
      const hint =
        orgName === undefined && ex.status === 400
          ? ' (if your key spans several organizations, name one with --org-name)'
          : ''
      const said = typeof ex.body === 'string' ? ex.body : JSON.stringify(ex.body)
      throw new ScenarioStopped(
        `${name} answered ${ex.status}, not a record: ${said.split('\n', 1)[0]!.slice(0, 300)}${hint}`,
      )
    }
    return id
  }

  const name = (letter: string) => `${prefix}-${letter}`
  const foreign = `${prefix}-elsewhere`
  const path = (id: string) => `/v1/ai_secret/${id}`
  const COLLECTION = '/v1/ai_secret'

  let left: ScenarioResult['left'] = []
  try {
    try {
      const preflight = {
        origin: ORIGIN,
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'authorization, content-type',
      }
      await exchange('cors-preflight', { method: 'OPTIONS', path: COLLECTION, auth: 'none', headers: preflight })
      await exchange('cors-preflight-by-id', {
        method: 'OPTIONS',
        path: path(unknownId),
        auth: 'none',
        headers: preflight,
      })
      await exchange('no-key', {
        method: 'GET',
        path: COLLECTION,
        query: [['ai_secret_name', name('a')]],
        auth: 'none',
      })
      await exchange('wrong-key', {
        method: 'GET',
        path: COLLECTION,
        query: [['ai_secret_name', name('a')]],
        auth: 'wrong-key',
      })

      const a = await created('create', {
        method: 'POST',
        path: COLLECTION,
        body: withOrg({
          name: name('a'),
          type: 'openai',
          secret: DUMMY_SECRETS[0],
          metadata: { team: 'conformance', nested: { first: 1 } },
        }),
      })
      await exchange('create-existing', {
        method: 'POST',
        path: COLLECTION,
        body: withOrg({ name: name('a'), type: 'anthropic', secret: DUMMY_SECRETS[1], metadata: { team: 'changed' } }),
      })
      const b = await created('create-b', {
        method: 'POST',
        path: COLLECTION,
        body: withOrg({ name: name('b'), type: 'anthropic', secret: DUMMY_SECRETS[1] }),
      })
      const c = await created('put-create-c', {
        method: 'PUT',
        path: COLLECTION,
        body: withOrg({ name: name('c'), type: 'openai' }),
      })

      await exchange('get', { method: 'GET', path: path(a) })
      await exchange('patch-metadata', {
        method: 'PATCH',
        path: path(a),
        body: { metadata: { nested: { second: 2 }, added: true } },
      })
      await exchange('patch-nulls', { method: 'PATCH', path: path(a), body: { type: null, metadata: null } })

      const ids: [string, string][] = [a, b, c].map((id) => ['ids', id])
      await exchange('list-ids', { method: 'GET', path: COLLECTION, query: ids })
      await exchange('list-ids-comma-type', {
        method: 'GET',
        path: COLLECTION,
        query: [
          ['ids', [a, b, c].join(',')],
          ['ai_secret_type', 'anthropic'],
        ],
      })
      await exchange('list-name', { method: 'GET', path: COLLECTION, query: [['ai_secret_name', name('b')]] })
      if (orgName === undefined) {
        skip('list-org-name', 'needs --org-name')
        skip('list-org-header', 'needs --org-name')
      } else {
        await exchange('list-org-name', { method: 'GET', path: COLLECTION, query: [...ids, ['org_name', orgName]] })
        await exchange('list-org-header', {
          method: 'GET',
          path: COLLECTION,
          query: ids,
          headers: { 'x-bt-org-name': orgName },
        })
      }
      await exchange('list-page-1', { method: 'GET', path: COLLECTION, query: [...ids, ['limit', '1']] })
      await exchange('list-starting-after', {
        method: 'GET',
        path: COLLECTION,
        query: [...ids, ['limit', '1'], ['starting_after', c]],
      })
      await exchange('list-ending-before', {
        method: 'GET',
        path: COLLECTION,
        query: [...ids, ['limit', '1'], ['ending_before', a]],
      })

      await exchange('delete-id-while-paginating', { method: 'DELETE', path: path(c), rawBody: '' })
      await exchange('list-after-deleted-cursor', {
        method: 'GET',
        path: COLLECTION,
        query: [...ids, ['limit', '1'], ['starting_after', c]],
      })
      await exchange('get-deleted', { method: 'GET', path: path(c) })
      await exchange('delete-id-again', { method: 'DELETE', path: path(c), rawBody: '' })

      await exchange('delete-name', { method: 'DELETE', path: COLLECTION, body: withOrg({ name: name('b') }) })
      const again = await exchange('delete-name-again', {
        method: 'DELETE',
        path: COLLECTION,
        body: withOrg({ name: name('b') }),
      })
      const bare = await exchange('delete-name-without-org-name', {
        method: 'DELETE',
        path: COLLECTION,
        body: { name: name('b') },
      })
      transcript.run.key_spans_several_organizations =
        again.ex.status !== bare.ex.status || JSON.stringify(again.ex.body) !== JSON.stringify(bare.ex.body)

      await exchange('put-replace', {
        method: 'PUT',
        path: COLLECTION,
        body: withOrg({ name: name('a'), type: 'openai', secret: DUMMY_SECRETS[2] }),
      })

      await exchange('get-unknown-id', { method: 'GET', path: path(unknownId) })
      await exchange('patch-unknown-id', {
        method: 'PATCH',
        path: path(unknownId),
        body: { metadata: { team: 'nobody' } },
      })
      await exchange('get-not-a-uuid', { method: 'GET', path: path('not-a-uuid') })
      await exchange('create-bad-body', {
        method: 'POST',
        path: COLLECTION,
        body: withOrg({ name: name('bad-body'), metadata: 'not an object' }),
      })
      await exchange('create-not-json', {
        method: 'POST',
        path: COLLECTION,
        rawBody: `{"name": "${name('not-json')}",`,
      })
      await exchange('delete-name-without-name', { method: 'DELETE', path: COLLECTION, body: {} })
      await exchange('list-foreign-org', {
        method: 'GET',
        path: COLLECTION,
        query: [
          ['ids', a],
          ['org_name', foreign],
        ],
      })
      await exchange('delete-name-foreign-org', {
        method: 'DELETE',
        path: COLLECTION,
        body: { name: name('a'), org_name: foreign },
      })
      await exchange('list-foreign-org-header', {
        method: 'GET',
        path: COLLECTION,
        query: [['ids', a]],
        headers: { 'x-bt-org-name': foreign },
      })

      await exchange('delete-id', { method: 'DELETE', path: path(a), rawBody: '' })
      await exchange('list-after-all-deleted', {
        method: 'GET',
        path: COLLECTION,
        query: [['ids', [a, b, c].join(',')]],
      })
    } catch (err) {
      if (!(err instanceof RequestFailed || err instanceof ScenarioStopped)) throw err
      // The reason may name the request (and so an id): it is normalised as the exchanges are.
      transcript.aborted = signal.aborted
        ? `interrupted${typeof signal.reason === 'string' ? ` (${signal.reason})` : ''}`
        : normaliser.text(err.message)
    }
  } finally {
    // Whatever happened (a thrown bug included), nothing of the run's stays on the account.
    ;({ left } = await runner.cleanup())
  }
  return { transcript, prefix, created: runner.created, removed: runner.removed, left }
}
