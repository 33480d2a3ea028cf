import { bearerToken } from '../auth/authenticate.js'
import { previewSecret } from '../preview.js'
import { lowerCaseIds, normalizeTarget, pathOf } from '../request-target.js'
import type { FaultActed, JournalEntry, JournalFilter } from './schemas.js'

// The journal of /v1 requests: what a test's code sent, so the test can assert on it. Bounded:
// a ring buffer that drops the oldest entry when full.

export type { JournalEntry, JournalFilter }

export const REDACTED = '[redacted]'
/** Bodies bigger than this (as JSON) are not kept whole: a full journal of 1 MiB bodies would hold a gigabyte. */
export const MAX_BODY_CHARS = 64 * 1024

/** `Bearer sk-...ner` (the scheme as sent): enough to tell which key was used, never the key. */
export function redactAuthorization(value: string): string {
  const token = bearerToken(value)
  return token === null ? REDACTED : `${value.slice(0, 6)} ${previewSecret(token)}`
}

/** JSON.stringify's replacer: every property named `secret`, at any depth, unless null, shows as `[redacted]`. */
function redactSecret(key: string, value: unknown): unknown {
  return key === 'secret' && value !== null ? REDACTED : value
}

/**
 * What the journal keeps of a body: its JSON text, secrets redacted, when that is at most
 * MAX_BODY_CHARS characters, else the JSON text of a summary; null for no body. Text, not the
 * parsed value: a parsed value takes some 25 times the memory of its text (64 KiB of `[{},{},…]`
 * is 21 800 objects), so only text bounds the journal by MOCK_JOURNAL_SIZE × 64 KiB (an outside
 * audit filled 1.5 GB with 1 000 such bodies). format() parses it back when the journal is read.
 */
export function journalBodyText(body: unknown): string | null {
  if (body === undefined || body === null) return null
  const text = JSON.stringify(body, redactSecret)
  return text.length > MAX_BODY_CHARS ? JSON.stringify(`[${text.length} characters of JSON, not kept]`) : text
}

export function journalHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    // (Node keeps only the first of repeated Authorization headers: it is always a string.)
    if (k === 'authorization') out[k] = redactAuthorization(String(v))
    else if (k === 'cookie' || k === 'proxy-authorization') out[k] = REDACTED
    else out[k] = v
  }
  return out
}

/** The query string as an object; a repeated name gives an array. */
export function parseQuery(url: string): Record<string, string | string[]> {
  const i = url.indexOf('?')
  const out: Record<string, string | string[]> = {}
  if (i === -1) return out
  for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return out
}

/**
 * `/v1/ai_secret` matches itself only (and `/v1/ai_secret/`, the same route: see the
 * trailing-slash rule in app.ts); `/v1/ai_secret*` matches every path that starts so. Ids
 * compare in any case.
 */
export function pathMatches(pattern: string, path: string): boolean {
  // An id in any case is the same id (lowerCaseIds).
  pattern = lowerCaseIds(pattern)
  path = lowerCaseIds(path)
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1))
  return path === pattern || (path.length > 1 && path.endsWith('/') && path.slice(0, -1) === pattern)
}

/**
 * What the hot path keeps of a /v1 request: references, numbers and the body's redacted JSON
 * text. The headers' redaction, the query's parsing and the ISO time are work for GET
 * /_mock/requests (format()), not for every request: a test reads the journal far less often
 * than it sends requests.
 */
export interface JournalRecord {
  id: string
  /** Arrival, in ms since the epoch by the mock's clock. */
  timeMs: number
  method: string
  /** As received, query string included. */
  url: string
  /** The request's own headers object, not a copy. */
  headers: Record<string, string | string[] | undefined>
  /** What the journal shows of the body, as JSON text (journalBodyText); null for none. */
  body: string | null
  status: number | null
  duration_ms: number
  org: string | null
  /** Set when fault rules acted on the request. */
  faults?: FaultActed[] | null
}

/** An entry's fields before its body and after it, in the order GET /_mock/requests shows them. */
function entryParts(r: JournalRecord) {
  return {
    before: {
      id: r.id,
      time: new Date(r.timeMs).toISOString(),
      method: r.method,
      path: pathOf(r.url),
      query: parseQuery(r.url),
      headers: journalHeaders(r.headers),
    },
    after: { status: r.status, duration_ms: r.duration_ms, org: r.org, faults: r.faults ?? [] },
  }
}

/**
 * The JSON text of format(r), the body spliced in as the text the journal keeps: GET
 * /_mock/requests never parses a body back into objects (1 000 bodies of 64 KiB of `[{},{},…]`
 * parsed took a reader from 259 MB to 1.8 GB, and killed one under a 512 MB heap). The body text
 * is JSON.stringify's own output (journalBodyText), so the result is JSON.
 */
export function formatJson(r: JournalRecord): string {
  const { before, after } = entryParts(r)
  return `${JSON.stringify(before).slice(0, -1)},"body":${r.body ?? 'null'},${JSON.stringify(after).slice(1)}`
}

/** The entry GET /_mock/requests shows for a record, as a value (formatJson gives its text). */
export function format(r: JournalRecord): JournalEntry {
  const { before, after } = entryParts(r)
  return { ...before, body: r.body === null ? null : JSON.parse(r.body), ...after }
}

export class Journal {
  private items: (JournalRecord | undefined)[]
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.items = new Array<JournalRecord | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  add(record: JournalRecord): void {
    if (this.capacity === 0) return
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = record
      this.count++
    } else {
      this.items[this.start] = record
      this.start = (this.start + 1) % this.capacity
    }
  }

  /** The records the filter keeps, oldest first. */
  private select(filter: JournalFilter): JournalRecord[] {
    const method = filter.method?.toUpperCase()
    // Read as request paths are (normalizeTarget), as fault rules' are.
    const path = filter.path === undefined ? undefined : normalizeTarget(filter.path)
    const out: JournalRecord[] = []
    for (let i = 0; i < this.count; i++) {
      const r = this.items[(this.start + i) % this.capacity]!
      if (method !== undefined && r.method !== method) continue
      if (path !== undefined && !pathMatches(path, pathOf(r.url))) continue
      if (filter.org !== undefined && r.org !== filter.org) continue
      out.push(r)
    }
    return out
  }

  /** Oldest first, formatted. */
  list(filter: JournalFilter = {}): JournalEntry[] {
    return this.select(filter).map(format)
  }

  /** GET /_mock/requests's answer, `{"requests":[…]}`, as JSON text (formatJson: no body parsed). */
  listJson(filter: JournalFilter = {}): string {
    return `{"requests":[${this.select(filter).map(formatJson).join(',')}]}`
  }

  clear(): void {
    this.items = new Array<JournalRecord | undefined>(this.capacity)
    this.start = 0
    this.count = 0
  }
}
