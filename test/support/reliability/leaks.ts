// The secrets check of the reliability suite: every text the other checks produce (answers,
// headers, log lines, journal entries, error messages) is searched for every secret value,
// API key, JWT and Authorization value that was ever sent or seeded.

/** Values shorter than this are not searched for: they occur by chance (a 3-letter secret in a uuid). */
export const MIN_NEEDLE = 10

export interface Leak {
  what: string
  where: string
  excerpt: string
}

/** A pino line may hold a Buffer (`{"type":"Buffer","data":[...]}`): its bytes are searched too. */
export function expandBuffers(text: string): string {
  if (!text.includes('"Buffer"')) return text
  let out = text
  for (const m of text.matchAll(/"type":"Buffer","data":\[([\d,]*)\]/g)) {
    out +=
      '\n' +
      Buffer.from(
        m[1]!
          .split(',')
          .filter((x) => x !== '')
          .map(Number),
      ).toString('latin1')
  }
  return out
}

export class LeakWatch {
  private readonly needles = new Map<string, string>()
  /** How many texts were searched, and how many characters. */
  texts = 0
  chars = 0
  /** The first 100 leaks found, for the report. */
  readonly leaks: Leak[] = []
  /** How many were found in all, and how many of them only inside logged Buffers (err.rawPacket). */
  total = 0
  inBuffers = 0

  /** Something that must never be shown: a secret value, a key, a token, an Authorization header value. */
  add(value: string | null | undefined, what: string): void {
    if (typeof value !== 'string' || value.length < MIN_NEEDLE) return
    this.needles.set(value, what)
    // The token of an Authorization value is a needle of its own: pino or a journal may keep either.
    const bearer = /^Bearer +(\S+)/i.exec(value)
    if (bearer !== null) this.add(bearer[1], what)
  }

  /** Forgets the needles (a new scenario with new values); the counts and leaks stay. */
  clearNeedles(): void {
    this.needles.clear()
  }

  get size(): number {
    return this.needles.size
  }

  /** Searches one text; returns the leaks found in it. */
  check(text: string, where: string): Leak[] {
    this.texts++
    this.chars += text.length
    const found: Leak[] = []
    const hay = expandBuffers(text)
    for (const [value, what] of this.needles) {
      const i = hay.indexOf(value)
      if (i === -1) continue
      // Found only in the bytes of a logged Buffer (Node's err.rawPacket of a request it could not parse)?
      const inBuffer = i >= text.length ? ' (in a logged Buffer: err.rawPacket)' : ''
      const leak = {
        what,
        where: where + inBuffer,
        excerpt: hay.slice(Math.max(0, i - 60), i + value.length + 20).replace(value, '<<LEAK>>'),
      }
      found.push(leak)
      this.total++
      if (inBuffer !== '') this.inBuffers++
      if (this.leaks.length < 100) this.leaks.push(leak)
    }
    return found
  }

  /** An answer: its body and every header. */
  checkResponse(res: { body: string; headers: Record<string, unknown> }, where: string): Leak[] {
    return this.check(`${JSON.stringify(res.headers)}\n${res.body}`, where)
  }
}
