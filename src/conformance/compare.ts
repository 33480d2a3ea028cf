// Compares two transcripts exchange by exchange (matched by name) and says, in lines a person
// can read, what differs in each.

import diff from 'microdiff'
import type { Exchange, SkippedExchange, Transcript } from './transcript.js'

/** What differs in one exchange (or, named `(run)`, in the transcripts' headers). */
export interface ExchangeDifference {
  name: string
  /** `POST /v1/ai_secret`, from whichever transcript has the exchange. */
  request: string
  /** One line per difference: `status: 200 → 400`, `body.metadata.team: "a" → (absent)`. */
  lines: string[]
}

export interface Comparison {
  /** How many exchanges were compared (the union of both transcripts' names). */
  exchanges: number
  differences: ExchangeDifference[]
}

type Entry = Exchange | SkippedExchange

function isSkipped(e: Entry): e is SkippedExchange {
  return 'skipped' in e
}

const ABSENT = '(absent)'

function show(value: unknown): string {
  if (value === undefined) return ABSENT
  const s = JSON.stringify(value)
  return s.length > 200 ? `${s.slice(0, 197)}...` : s
}

/** A path from microdiff as one reads it: `headers["x-bt-found-existing"]`, `body.objects[0].id`. */
function pathOf(path: (string | number)[]): string {
  let out = ''
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += out === '' ? p : `.${p}`
    else out += `[${JSON.stringify(p)}]`
  }
  return out
}

/** Characters of context around where two long texts part. */
const CONTEXT = 30
/** No cut saves fewer characters than this. */
const SHORT = 25

/**
 * Where two texts differ, with some context: the common start and end are cut to `…`
 * (at a space where one is near), so a long message that differs in one bracket shows that
 * bracket, not the whole message twice.
 */
export function excerpts(a: string, b: string): [string, string] {
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let end = 0
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++
  // A cut that would save only a few characters is not made.
  let from = start - CONTEXT <= SHORT ? 0 : start - CONTEXT
  const space = a.lastIndexOf(' ', from)
  if (from > 0 && space !== -1 && from - space <= 12) from = space + 1
  const cut = (s: string) => {
    let to = end - CONTEXT <= SHORT ? s.length : s.length - end + CONTEXT
    const next = s.indexOf(' ', to)
    if (to < s.length && next !== -1 && next - to <= 12) to = next
    if (s.length - to <= SHORT) to = s.length
    return `${from > 0 ? '…' : ''}${s.slice(from, to)}${to < s.length ? '…' : ''}`
  }
  return [cut(a), cut(b)]
}

/** Two texts that differ: on one line when both are short, else where they part, one under the other. */
function textLines(label: string, a: string, b: string): string[] {
  if (!a.includes('\n') && !b.includes('\n') && a.length + b.length <= 160)
    return [`${label}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`]
  const [ea, eb] = excerpts(a, b)
  const block = (tag: string, s: string) => s.split('\n').map((l, i) => (i === 0 ? `    ${tag}: ${l}` : `       ${l}`))
  return [`${label}:`, ...block('a', ea), ...block('b', eb)]
}

function describe(e: Entry): string {
  return isSkipped(e) ? `(skipped: ${e.skipped})` : `${e.method} ${e.path}`
}

/** The differences of one exchange present in both transcripts. */
function compareExchange(a: Entry, b: Entry): string[] {
  if (isSkipped(a) || isSkipped(b)) {
    if (isSkipped(a) && isSkipped(b))
      return a.skipped === b.skipped ? [] : [`skipped: ${show(a.skipped)} → ${show(b.skipped)}`]
    return [
      `${isSkipped(a) ? 'skipped in a, run in b' : 'run in a, skipped in b'}: ${isSkipped(a) ? a.skipped : (b as SkippedExchange).skipped}`,
    ]
  }
  const lines: string[] = []
  // Whole bodies of different kinds (text against JSON, or two texts) are shown whole.
  const { body: bodyA, ...restA } = a
  const { body: bodyB, ...restB } = b
  for (const d of diff(restA, restB)) {
    const label = pathOf(d.path)
    if (d.type === 'CHANGE' && typeof d.oldValue === 'string' && typeof d.value === 'string')
      lines.push(...textLines(label, d.oldValue, d.value))
    else
      lines.push(
        `${label}: ${show(d.type === 'CREATE' ? undefined : d.oldValue)} → ${show(d.type === 'REMOVE' ? undefined : d.value)}`,
      )
  }
  const objects = (v: unknown): v is object => v !== null && typeof v === 'object'
  if (objects(bodyA) && objects(bodyB) && Array.isArray(bodyA) === Array.isArray(bodyB)) {
    for (const d of diff(bodyA as Record<string, unknown>, bodyB as Record<string, unknown>)) {
      const label = `body${pathOf(d.path).replace(/^(?=[A-Za-z_])/, '.')}`
      if (d.type === 'CHANGE' && typeof d.oldValue === 'string' && typeof d.value === 'string')
        lines.push(...textLines(label, d.oldValue, d.value))
      else
        lines.push(
          `${label}: ${show(d.type === 'CREATE' ? undefined : d.oldValue)} → ${show(d.type === 'REMOVE' ? undefined : d.value)}`,
        )
    }
  } else if (JSON.stringify(bodyA) !== JSON.stringify(bodyB)) {
    const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2))
    if (typeof bodyA === 'string' && typeof bodyB === 'string') lines.push(...textLines('body', bodyA, bodyB))
    else {
      // Text against JSON (or null): both whole.
      const block = (tag: string, v: unknown) =>
        asText(v)
          .split('\n')
          .map((l, i) => (i === 0 ? `    ${tag}: ${l}` : `       ${l}`))
      lines.push('body:', ...block('a', bodyA), ...block('b', bodyB))
    }
  }
  return lines
}

/**
 * Compares transcript `a` with transcript `b`: their scenario versions and run settings (as a
 * first entry named `(run)`), then every exchange by name, in a's order with those only in b
 * after. An exchange differs when anything recorded of it does: request, status, content
 * type, headers or body.
 */
export function compareTranscripts(a: Transcript, b: Transcript): Comparison {
  const differences: ExchangeDifference[] = []
  const head: string[] = []
  if (a.scenario !== b.scenario)
    head.push(`scenario: ${show(a.scenario)} → ${show(b.scenario)} (different scenarios: exchanges may not match)`)
  for (const d of diff(a.run ?? {}, b.run ?? {})) {
    head.push(
      `run.${pathOf(d.path)}: ${show(d.type === 'CREATE' ? undefined : d.oldValue)} → ${show(d.type === 'REMOVE' ? undefined : d.value)}`,
    )
  }
  if (a.aborted !== b.aborted) head.push(`aborted: ${show(a.aborted)} → ${show(b.aborted)}`)
  if (head.length > 0) differences.push({ name: '(run)', request: '', lines: head })

  const inB = new Map(b.exchanges.map((e) => [e.name, e]))
  const inA = new Map(a.exchanges.map((e) => [e.name, e]))
  for (const ea of a.exchanges) {
    const eb = inB.get(ea.name)
    if (eb === undefined) {
      differences.push({ name: ea.name, request: describe(ea), lines: ['only in a'] })
      continue
    }
    const lines = compareExchange(ea, eb)
    if (lines.length > 0) differences.push({ name: ea.name, request: describe(ea), lines })
  }
  for (const eb of b.exchanges) {
    if (!inA.has(eb.name)) differences.push({ name: eb.name, request: describe(eb), lines: ['only in b'] })
  }
  return { exchanges: new Set([...inA.keys(), ...inB.keys()]).size, differences }
}

/** The comparison as the CLI prints it: a heading, then each differing exchange and its lines. */
export function formatComparison(c: Comparison, nameA: string, nameB: string): string {
  const exchanges = c.differences.filter((d) => d.name !== '(run)').length
  if (c.differences.length === 0) return `${nameA} and ${nameB} agree on all ${c.exchanges} exchanges.\n`
  let out = `${nameA} (a) and ${nameB} (b) differ in ${exchanges} of ${c.exchanges} exchanges${c.differences.length > exchanges ? ', and in how the runs were made' : ''} (a → b):\n`
  for (const d of c.differences) {
    out += `\n${d.name}${d.request === '' ? '' : `  ${d.request}`}\n`
    for (const line of d.lines) out += `  ${line}\n`
  }
  return out
}
