// The transcript of a conformance run, and how what went over the wire becomes it: every
// value that differs from run to run or from account to account (ids, timestamps, request
// ids, e-mails, organization names, the run's random name prefix) is replaced by a stable
// placeholder, so that two runs against the same server compare equal and a transcript can
// be shared without giving anything of the account away.

/** Which credentials an exchange was sent with. */
export type Auth = 'key' | 'wrong-key' | 'none'

/** One request and its answer, normalised. */
export interface Exchange {
  /** The scenario's name for the exchange: transcripts are compared exchange by exchange, by name. */
  name: string
  method: string
  /**
   * Path and query string as sent (decoded), normalised: `/v1/ai_secret/<a.id>`, `/v1/ai_secret?ids=<a.id>&limit=1`.
   */
  path: string
  /**
   * What was sent: credentials, the headers the scenario chose, and the JSON body (a `secret` reads `<dummy>`) or the
   * raw text.
   */
  request: { auth: Auth; headers?: Record<string, string>; body?: unknown }
  /** The HTTP status. */
  status: number
  /** The whole `content-type` header of the answer, or null. */
  content_type: string | null
  /**
   * The headers that matter: {@link PRESENCE_HEADERS} by presence (`true`; values differ every
   * time), {@link VALUE_HEADERS} and every `access-control-*` header with their (normalised)
   * value. Absent headers are left out.
   */
  headers: Record<string, true | string>
  /** The parsed JSON body, or the text of any other body, normalised; null when empty. */
  body: unknown
}

/** An exchange the run left out, and why (it needs `--org-name`). */
export interface SkippedExchange {
  name: string
  skipped: string
}

/** What `--out` writes: `{ "scenario", "run", "exchanges": [...] }`, plus `aborted` when the run stopped early. */
export interface Transcript {
  /** The version of the scenario: transcripts of different versions are not comparable exchange by exchange. */
  scenario: string
  run: {
    /** Whether `--org-name` was given (then every write and some lists name the organization). */
    org_name_given: boolean
    /**
     * Whether the key spans several organizations: the delete without `org_name` was answered
     * otherwise than the same delete with it. Null when the run stopped before that exchange.
     */
    key_spans_several_organizations: boolean | null
  }
  /** Why the run stopped before its end (interrupted, a failed step); absent for a complete run. */
  aborted?: string
  exchanges: (Exchange | SkippedExchange)[]
}

/** Answer headers recorded by presence only: their values differ on every request. */
export const PRESENCE_HEADERS = ['x-request-id', 'x-bt-internal-trace-id', 'retry-after'] as const
/** Answer headers recorded with their value. */
export const VALUE_HEADERS = ['x-bt-found-existing'] as const
/** Answer headers whose value is a request id: the same id in the body becomes `<request-id>`. */
const REQUEST_ID_HEADERS = ['x-request-id', 'x-bt-internal-trace-id']

/** What went over the wire, before normalisation. */
export interface RawExchange {
  name: string
  method: string
  /** Path and query string, decoded for reading. */
  path: string
  request: { auth: Auth; headers?: Record<string, string>; body?: unknown }
  status: number
  /** Answer headers, names in lower case. */
  headers: Record<string, string>
  /** The answer's body as text. */
  text: string
}

export interface NormaliserOptions {
  /** The run's random token (`aismock-conformance-<token>-a`): becomes `<run>`. */
  runToken: string
  /** Strings that must never reach a transcript, each with what it becomes: the API key, the dummy secret values. */
  redact: [value: string, placeholder: string][]
  /** The organization given with `--org-name`: it becomes `<org-1>`. */
  orgName?: string
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const DATE_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g
/**
 * The bracketed context of a text error: `[user_email=…] [user_org=…] [timestamp=…] [request_id=…]`
 * (RECORDED-BEHAVIOUR.md).
 */
const BRACKET = /\[(user_email|user_org|timestamp|request_id)=([^\]]*)\]/g
/** Where a list of names can start or end in a message: `(acme, globex)`, `["acme","globex"]`. */
const LIST_DELIMITERS = /[()[\]{}:;"\n]/
/** Uuids in these fields are labelled by what they identify. */
const ID_KINDS: Record<string, string> = { org_id: 'org', secret_updated_by_user_id: 'user' }

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** A JSON content type: `application/json` or `application/<something>+json`, with any parameters. */
export function isJsonType(contentType: string | null): boolean {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase()
  return type === 'application/json' || /^application\/[^/]+\+json$/.test(type)
}

/**
 * Turns raw exchanges into transcript entries. It keeps its placeholders for the whole run,
 * so the same value always becomes the same placeholder (numbered in the order of first
 * appearance), and a reference between exchanges (the id a create answered, used in the path
 * of a later get) survives:
 *
 * - uuids: `<a.id>` for the record of the run's secret named `…-a`, `<org-1.id>` and
 *   `<user-1.id>` by field (`org_id`, `secret_updated_by_user_id`), `<id-1>` otherwise, and
 *   whatever {@link label} gave before;
 * - date-times (RFC 3339): `<date-time>`; the bracketed `[timestamp=…]`: `<timestamp>` (both
 *   one placeholder for all values: the order of equal milliseconds is chance);
 * - request ids: `<request-id>` when the value is this answer's own `x-request-id` or
 *   `x-bt-internal-trace-id`, `<other-request-id>` otherwise (in `[request_id=…]` and a
 *   403's `InternalTraceId`);
 * - e-mails: `<user-1.email>`; organization names: `<org-1>` (the `--org-name` one first),
 *   learnt from `[user_org=…]`, from what the run sent, and from lists in messages that hold
 *   a known one (`(acme, globex)`: globex is an organization name too). A name is replaced
 *   where it stands as a whole word;
 * - the run's random token: `<run>`; the API key and the dummy secret values: their
 *   placeholders (they are never expected in an answer, but would never be written);
 * - a record of another secret in a list's `objects` (the scenario's lists are filtered to
 *   the run's own, so only a server that ignored the filter sends one): `<another secret>`,
 *   so that the difference shows and the account's other secrets do not.
 */
export class Normaliser {
  private readonly labels = new Map<string, string>()
  private readonly counters = new Map<string, number>()
  private readonly emails = new Map<string, string>()
  private readonly orgs = new Map<string, string>()
  private readonly prefix: string

  constructor(private readonly options: NormaliserOptions) {
    this.prefix = `aismock-conformance-${options.runToken}-`
    if (options.orgName !== undefined) this.org(options.orgName)
  }

  /** Gives a uuid a placeholder of the caller's choice (the run's unknown id), unless it has one. */
  label(uuid: string, placeholder: string): void {
    if (!this.labels.has(uuid.toLowerCase())) this.labels.set(uuid.toLowerCase(), placeholder)
  }

  private next(kind: string): number {
    const n = (this.counters.get(kind) ?? 0) + 1
    this.counters.set(kind, n)
    return n
  }

  private uuid(value: string, kind?: string): string {
    const key = value.toLowerCase()
    let placeholder = this.labels.get(key)
    if (placeholder === undefined) {
      placeholder = kind === undefined ? `<id-${this.next('id')}>` : `<${kind}-${this.next(kind)}.id>`
      this.labels.set(key, placeholder)
    }
    return placeholder
  }

  private email(value: string): string {
    let placeholder = this.emails.get(value.toLowerCase())
    if (placeholder === undefined) {
      placeholder = `<user-${this.emails.size + 1}.email>`
      this.emails.set(value.toLowerCase(), placeholder)
    }
    return placeholder
  }

  private org(name: string): string {
    let placeholder = this.orgs.get(name)
    if (placeholder === undefined) {
      placeholder = `<org-${this.orgs.size + 1}>`
      this.orgs.set(name, placeholder)
    }
    return placeholder
  }

  /** Registers the names around a known organization name in a list (`acme, globex`) as organization names. */
  private learnOrgLists(text: string): void {
    if (this.orgs.size === 0) return
    for (const segment of text.split(LIST_DELIMITERS)) {
      const items = segment.split(',').map((s) => s.trim())
      if (items.length < 2 || !items.some((i) => this.orgs.has(i))) continue
      for (const item of items) if (item !== '' && item.length <= 100 && !item.includes('<')) this.org(item)
    }
  }

  /** Walks a JSON body first, to label the uuids whose meaning its fields tell. */
  private learn(value: unknown, key?: string): void {
    if (Array.isArray(value)) {
      for (const v of value) this.learn(v)
      return
    }
    if (isObject(value)) {
      const { id, name } = value
      if (
        typeof id === 'string' &&
        typeof name === 'string' &&
        name.startsWith(this.prefix) &&
        new RegExp(`^${UUID.source}$`, 'i').test(id)
      ) {
        this.label(id, `<${name.slice(this.prefix.length)}.id>`)
      }
      for (const [k, v] of Object.entries(value)) this.learn(v, k)
      return
    }
    if (typeof value === 'string' && key !== undefined && ID_KINDS[key] !== undefined) {
      for (const m of value.matchAll(UUID)) this.uuid(m[0], ID_KINDS[key])
    }
  }

  /** Normalises one string (a text body, a JSON string value, a path). */
  text(input: string, ownRequestIds: string[] = []): string {
    let s = input
    for (const [value, placeholder] of this.options.redact) if (value !== '') s = s.split(value).join(placeholder)
    for (const id of ownRequestIds) if (id !== '') s = s.split(id).join('<request-id>')
    this.learnOrgLists(s)
    s = s.replace(BRACKET, (_all, field: string, value: string) => {
      if (field === 'user_email') return `[user_email=${this.email(value)}]`
      if (field === 'user_org') return `[user_org=${this.org(value)}]`
      if (field === 'timestamp') return '[timestamp=<timestamp>]'
      return `[request_id=${value === '<request-id>' ? value : '<other-request-id>'}]`
    })
    s = s.split(this.prefix).join('aismock-conformance-<run>-')
    s = s.replace(EMAIL, (m) => this.email(m))
    s = s.replace(UUID, (m) => this.uuid(m))
    s = s.replace(DATE_TIME, '<date-time>')
    // Longest first, so that an organization named `acme` does not cut into one named `acme labs`.
    for (const [name, placeholder] of [...this.orgs].sort((a, b) => b[0].length - a[0].length)) {
      s = s.replace(new RegExp(`(?<![\\w.<-])${escapeRegExp(name)}(?![\\w>-]|\\.\\w)`, 'g'), placeholder)
    }
    return s
  }

  /** Normalises a JSON value: every string in it, keys kept; a 403's `InternalTraceId` is a request id. */
  json(value: unknown, ownRequestIds: string[] = [], key?: string): unknown {
    if (typeof value === 'string') {
      if (key === 'InternalTraceId') return ownRequestIds.includes(value) ? '<request-id>' : '<other-request-id>'
      return this.text(value, ownRequestIds)
    }
    if (Array.isArray(value)) return value.map((v) => this.json(v, ownRequestIds))
    if (isObject(value)) {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = this.json(v, ownRequestIds, k)
      return out
    }
    return value
  }

  /** The transcript entry of one raw exchange. */
  exchange(raw: RawExchange): Exchange {
    const contentType = raw.headers['content-type'] ?? null
    let body: unknown = raw.text === '' ? null : raw.text
    if (raw.text !== '' && isJsonType(contentType)) {
      try {
        body = JSON.parse(raw.text) as unknown
      } catch {
        // Not JSON after all: kept as text, which the comparison shows as it is.
      }
    }
    const objects = (body as { objects?: unknown } | null)?.objects
    if (Array.isArray(objects)) {
      const others = (o: unknown) => !(isObject(o) && typeof o.name === 'string' && o.name.startsWith(this.prefix))
      body = { ...(body as object), objects: objects.map((o) => (others(o) ? '<another secret>' : o)) }
    }
    // The answer's own fields first: a create's answer names the id its path will carry later.
    this.learn(body)
    this.learn(raw.request.body)
    const own = REQUEST_ID_HEADERS.map((h) => raw.headers[h]).filter((v): v is string => v !== undefined)
    const headers: Record<string, true | string> = {}
    for (const h of PRESENCE_HEADERS) if (raw.headers[h] !== undefined) headers[h] = true
    for (const h of VALUE_HEADERS) if (raw.headers[h] !== undefined) headers[h] = this.text(raw.headers[h]!, own)
    for (const h of Object.keys(raw.headers).sort())
      if (h.startsWith('access-control-')) headers[h] = this.text(raw.headers[h]!, own)
    const request: Exchange['request'] = { auth: raw.request.auth }
    if (raw.request.headers !== undefined) request.headers = this.json(raw.request.headers) as Record<string, string>
    if (raw.request.body !== undefined) request.body = this.json(raw.request.body)
    return {
      name: raw.name,
      method: raw.method,
      path: this.text(raw.path),
      request,
      status: raw.status,
      content_type: contentType,
      headers,
      body: typeof body === 'string' ? this.text(body, own) : this.json(body, own),
    }
  }
}
