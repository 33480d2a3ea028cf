// How the mock reads a request's target (RFC 9112 section 3.2): its path and what it names.

/** The path of a request target, without its query string. */
export function pathOf(url: string): string {
  const i = url.indexOf('?')
  return i === -1 ? url : url.slice(0, i)
}

/**
 * Whether a target is under `/v1`, the Braintrust API (`/v1`, `/v1/…`, `/v1?…`), as opposed to `/_mock` or the docs.
 */
export function isV1(url: string): boolean {
  return url.startsWith('/v1/') || url === '/v1' || url.startsWith('/v1?')
}

/** Unreserved characters (RFC 3986 section 2.3): percent-encoded, they are the same characters (section 6.2.2.2). */
const UNRESERVED = /[A-Za-z0-9\-._~]/
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

/**
 * The request target as the mock reads it everywhere (router, journal, fault rules, `Prefer`,
 * the rate limit, CORS): an absolute-form target (`http://host/v1/ai_secret`, RFC 9112 section
 * 3.2.2) as the origin-form it names (`/v1/ai_secret`), and percent-encoded unreserved characters
 * in the path decoded (`/%761/ai_secret` is `/v1/ai_secret`), so that no spelling of a path
 * reaches a handler while the control plane sees another. The query is left as it is; other
 * percent-encodings (`%2F`) keep their meaning. A `#` cannot begin a fragment in a request target
 * (RFC 9112 section 3.2 has none), yet Node passes it on and the router would read it as the
 * start of the query (`/v1/ai_secret#limit=0`): it is read as the character it is, `%23`.
 * Fastify's `rewriteUrl`, before routing.
 */
export function normalizeTarget(url: string): string {
  let target = url.includes('#') ? url.replaceAll('#', '%23') : url
  const absolute = ABSOLUTE_FORM.exec(target)
  if (absolute !== null) {
    target = target.slice(absolute[0].length)
    if (!target.startsWith('/')) target = `/${target}`
  }
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  let read = path
  if (read.includes('%'))
    read = read.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => {
      const c = String.fromCharCode(Number.parseInt(hex, 16))
      return UNRESERVED.test(c) ? c : whole
    })
  if (read === path) return target
  return q === -1 ? read : read + target.slice(q)
}

/**
 * A whole path segment that is a uuid in any case. The API reads an id without regard to case
 * (upstream: `format: uuid`; recorded answers give ids in lower case, as Postgres prints them),
 * so an upper-case id names the same record.
 */
const UUID_SEGMENT = /(?<=\/)[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?=\/|$)/g

/**
 * A path with its uuid segments in lower case: what fault rules and journal filters compare
 * (pathMatches), so that a rule for an id catches the id in any case, as the router serves it (an
 * audit deleted through a rule written for the lower-case spelling). Answers and the journal keep
 * the id as it was sent.
 */
export function lowerCaseIds(path: string): string {
  return /[A-F]/.test(path) ? path.replace(UUID_SEGMENT, (id) => id.toLowerCase()) : path
}
