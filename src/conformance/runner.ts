// Sends the scenario's requests over real HTTP (fetch), keeps track of every secret the run
// may have created, and removes them all at the end: after a complete run, a failed one,
// or an interrupted one. It never asks for a secret it did not name itself.

import type { Auth, RawExchange } from './transcript.js'

/** What the scenario asks the runner to send. */
export interface Request {
  method: string
  /** `/v1/ai_secret` or `/v1/ai_secret/<id>`, without the query. */
  path: string
  /** Query parameters, in order (a name may repeat). */
  query?: [string, string][]
  /** Default `key`: `Authorization: Bearer <the key>`. */
  auth?: Auth
  /** Headers besides `authorization` and `content-type`. */
  headers?: Record<string, string>
  /** A JSON body (sent with `content-type: application/json`). */
  body?: unknown
  /** A body sent as it is, with `content-type: application/json` (the bad-body exchanges; `''` for an empty one). */
  rawBody?: string
}

/** A secret the run created (or may have), by name and, once known, id. */
export interface SecretRef {
  name: string
  id: string
}

export interface RunnerOptions {
  /** The API's base URL, without a trailing slash (`https://api.braintrust.dev`, `http://127.0.0.1:8000`). */
  baseUrl: string
  apiKey: string
  /** Names of the run's secrets start with this (`aismock-conformance-<token>-`); nothing else is ever deleted. */
  prefix: string
  /** Given to the cleanup's lists and deletes, as to the scenario's writes. */
  orgName?: string
  /** Aborts the request in flight (an interrupted run); the cleanup does not listen to it. */
  signal: AbortSignal
  /** How long one request may take before it counts as failed. Default 30 000 ms. */
  timeoutMs?: number
  /** Where the runner says what it created and removed (one line each). */
  log: (line: string) => void
}

/** A key that no server knows, for the wrong-key exchange. Not a secret. */
export const WRONG_KEY = 'sk-aismock-conformance-not-a-real-key'

/** The request failed before an answer came (network, timeout, interrupted). */
export class RequestFailed extends Error {
  override name = 'RequestFailed'
}

/**
 * Sends requests for a run and remembers what it created. A secret counts as created when an
 * answer shows a record whose name starts with the run's prefix, and as a possible leftover
 * when a write for one of the run's names got no answer (the server may have done it): the
 * cleanup looks those up by name.
 */
export class Runner {
  /** Every record of the run's seen in an answer, by id, until it is known to be deleted. */
  private readonly live = new Map<string, string>()
  /** Names the run wrote (or tried to): the cleanup lists each of them. */
  private readonly names = new Set<string>()
  readonly created: SecretRef[] = []
  readonly removed: SecretRef[] = []

  constructor(private readonly options: RunnerOptions) {}

  /** Names the run may have written under, for the cleanup to look up. */
  claim(name: string): void {
    if (name.startsWith(this.options.prefix)) this.names.add(name)
  }

  private url(path: string, query: [string, string][] = []): string {
    const q = query.length === 0 ? '' : `?${new URLSearchParams(query).toString()}`
    return `${this.options.baseUrl}${path}${q}`
  }

  /** Sends one request; resolves to what went over the wire, or rejects with {@link RequestFailed}. */
  async send(name: string, req: Request, signal: AbortSignal = this.options.signal): Promise<RawExchange> {
    const auth = req.auth ?? 'key'
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    if (auth !== 'none') headers.authorization = `Bearer ${auth === 'key' ? this.options.apiKey : WRONG_KEY}`
    let body: string | undefined
    if (req.body !== undefined) body = JSON.stringify(req.body)
    if (req.rawBody !== undefined) body = req.rawBody
    if (body !== undefined) headers['content-type'] = 'application/json'
    const writes = req.method !== 'GET' && req.method !== 'OPTIONS'
    const sentName = (req.body as { name?: unknown } | undefined)?.name
    if (writes && typeof sentName === 'string') this.claim(sentName)

    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(), this.options.timeoutMs ?? 30_000)
    const stop = () => timeout.abort()
    signal.addEventListener('abort', stop, { once: true })
    try {
      const res = await fetch(this.url(req.path, req.query), {
        method: req.method,
        headers,
        body,
        signal: timeout.signal,
        redirect: 'manual',
      })
      const text = await res.text()
      const answerHeaders: Record<string, string> = {}
      res.headers.forEach((value, key) => {
        answerHeaders[key] = value
      })
      const exchange: RawExchange = {
        name,
        method: req.method,
        path: `${req.path}${req.query === undefined || req.query.length === 0 ? '' : `?${req.query.map(([k, v]) => `${k}=${v}`).join('&')}`}`,
        request: {
          auth,
          ...(req.headers === undefined ? {} : { headers: req.headers }),
          ...(req.body !== undefined ? { body: req.body } : req.rawBody !== undefined ? { body: req.rawBody } : {}),
        },
        status: res.status,
        headers: answerHeaders,
        text,
      }
      this.track(req.method, res.status, answerHeaders['content-type'], text)
      return exchange
    } catch (err) {
      if (signal.aborted) throw new RequestFailed(`${req.method} ${req.path}: interrupted`)
      if (timeout.signal.aborted)
        throw new RequestFailed(
          `${req.method} ${req.path}: no answer within ${(this.options.timeoutMs ?? 30_000) / 1000} s`,
        )
      const cause = (err as Error & { cause?: Error }).cause
      throw new RequestFailed(`${req.method} ${req.path}: ${cause?.message ?? (err as Error).message}`)
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
    }
  }

  /** Notes the run's records an answer shows: created when first seen, removed when a delete answered them. */
  private track(method: string, status: number, contentType: string | undefined, text: string): void {
    if (status < 200 || status > 299 || !(contentType ?? '').includes('json')) return
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return
    }
    const records = (
      Array.isArray((body as { objects?: unknown }).objects) ? (body as { objects: unknown[] }).objects : [body]
    ) as { id?: unknown; name?: unknown }[]
    for (const r of records) {
      if (typeof r?.id !== 'string' || typeof r.name !== 'string' || !r.name.startsWith(this.options.prefix)) continue
      const ref = { name: r.name, id: r.id }
      if (!this.created.some((c) => c.id === r.id)) {
        this.created.push(ref)
        this.options.log(`created  ${r.name}  ${r.id}`)
      }
      if (method === 'DELETE') {
        this.live.delete(r.id)
        if (!this.removed.some((c) => c.id === r.id)) {
          this.removed.push(ref)
          this.options.log(`removed  ${r.name}  ${r.id}`)
        }
      } else if (!this.removed.some((c) => c.id === r.id)) {
        this.live.set(r.id, r.name)
      }
    }
  }

  /**
   * Removes everything the run created: each record still live, by id; then each name the
   * run wrote is listed (`ai_secret_name`, and `org_name` when given) and whatever of the
   * run's is found is removed too, which catches a create whose answer never came. Resolves
   * to what could not be removed (with why); never rejects.
   */
  async cleanup(): Promise<{ left: (SecretRef & { reason: string })[] }> {
    const signal = new AbortController().signal
    const failures = new Map<string, { name: string; reason: string }>()
    const remove = async (id: string, name: string) => {
      try {
        const res = await this.send(
          'cleanup',
          { method: 'DELETE', path: `/v1/ai_secret/${encodeURIComponent(id)}` },
          signal,
        )
        if (res.status < 200 || res.status > 299) {
          // Gone already (a delete whose answer was lost) is not a failure: the listing below tells.
          failures.set(id, { name, reason: `DELETE answered ${res.status}` })
        } else failures.delete(id)
      } catch (err) {
        failures.set(id, { name, reason: (err as Error).message })
      }
    }
    for (const [id, name] of [...this.live]) await remove(id, name)
    for (const name of this.names) {
      const query: [string, string][] = [['ai_secret_name', name]]
      if (this.options.orgName !== undefined) query.push(['org_name', this.options.orgName])
      try {
        const res = await this.send('cleanup', { method: 'GET', path: '/v1/ai_secret', query }, signal)
        if (res.status !== 200) {
          failures.set(`name:${name}`, { name, reason: `could not list it: GET answered ${res.status}` })
          continue
        }
        const found = ((JSON.parse(res.text) as { objects?: { id: string; name: string }[] }).objects ?? []).filter(
          (o) => o.name === name,
        )
        for (const o of found) await remove(o.id, o.name)
        // What the listing does not show is gone, whatever its delete answered.
        for (const [id, f] of failures) if (f.name === name && !found.some((o) => o.id === id)) failures.delete(id)
      } catch (err) {
        failures.set(`name:${name}`, { name, reason: `could not list it: ${(err as Error).message}` })
      }
    }
    return {
      left: [...failures].map(([id, f]) => ({ id: id.startsWith('name:') ? '?' : id, name: f.name, reason: f.reason })),
    }
  }
}
