// Bounded memory: a soak of many requests (autocannon) against the CLI child process, a
// mix of list, get, create, replace, patch and delete with errors among them (401, 400,
// 403, 404), over a bounded set of names so that the data itself stays the same size. The
// control plane's per-request paths run too: the rate limit is on (a limit never reached, so
// every key's window of request times is kept), a fault rule answers 429 after a 2 ms delay
// (a timer per request), and requests carry `Prefer: code=429` and `Prefer: delay=1`. Bodies
// come compressed too (gzip, deflate, br), among them small ones that decode to nearly the
// body limit: the journal (on, at its default size) must keep those by their decoded size, not
// whole (issue 21: 300 such requests once took RSS from 70 MB to 4.2 GB).
//
// What is judged: the child's RSS right after a full garbage collection, which a probe loaded
// into it (memory-probe.mjs) forces and reads every (requests after warm-up / 20) answers, from
// the start. The reading at the end of warm-up is the level; the 20 spread over the requests
// that follow, and one more when they are done, must each stay within 10 % of it. Why not
// the RSS read at any moment, as before: between collections it
// also holds garbage V8 has not collected yet, and how much V8 lets pile up follows its own
// heap sizing, not the requests served. Measured on this soak (16 connections, a shared 2-core
// machine, process.memoryUsage() in the child every second): RSS rose from 104 to 133 MiB in
// the 50 000 requests after a 10 000-request warm-up, all of it V8 heap (heapTotal 52 -> 77
// MiB; memory outside the V8 heap flat at ~54 MiB); a 300 000-request run showed the heap
// swinging between 52 and 94 MiB with V8's full collections while the heap in use right after
// a forced full collection stayed at 14.5-14.9 MiB over 140 000 requests. V8 also grows its
// young generation once, some 10 000-20 000 requests in (heapTotal 34 -> 50 MiB, RSS +8 MiB
// even right after a collection): the warm-up must be longer than that. RSS read every second
// is still reported (not judged), as is the trend (least squares) of the readings.

import autocannon from 'autocannon'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { LeakWatch } from './leaks.js'
import { RACE_KEY, RACE_SECRET, rss, startCli, tempDir, writeSeed } from './proc.js'
import { http } from './net.js'

/** Memory right after a forced full collection, as memory-probe.mjs writes it. Bytes; `at` in epoch ms. */
export interface AfterGc {
  at: number
  rss: number
  heapTotal: number
  heapUsed: number
  external: number
}

export interface SoakReport {
  requests: number
  warmup: number
  seconds: number
  rps: number
  byStatus: Record<string, number>
  errors: number
  timeouts: number
  /** RSS when the CLI had started, MiB. */
  rssStartMiB: number
  /**
   * RSS after a full collection: at the end of warm-up (the level), the highest reading after it and the last one, MiB.
   */
  rssAfterWarmupMiB: number
  rssMaxMiB: number
  rssEndMiB: number
  /** Highest after-collection reading over the level, in percent (judged: at most 10). */
  growthPct: number
  /** Readings after warm-up (the level's included), and their least-squares trend in MiB per 100 000 requests. */
  readingsAfterWarmup: number
  trendMiBPer100k: number
  /** The V8 heap in use right after a collection: at the level reading, highest, last; MiB. */
  heapUsedMiB: { level: number; max: number; end: number }
  /** RSS read every second, collections or not: highest after warm-up, MiB (reported, not judged). */
  rssMaxBetweenGcMiB: number
  /** RSS after each collection after warm-up, MiB. */
  samples: number[]
  leaksChecked: number
  leaks: number
  problems: string[]
}

const NAMES = 500
/**
 * The most RATE_LIMIT_PER_MINUTE takes, more than the soak sends in a minute: it keeps the limiter's state, not its
 * 429s.
 */
const RATE_LIMIT = 1_000_000
/** The path the soak's fault rule answers (a secret that does not exist). */
const FAULTED = '/v1/ai_secret/00000000-0000-4000-8000-00000000fa17'
const MiB = 1024 * 1024
/** Readings (each after a forced full collection) spread over the requests after warm-up. */
const READINGS = 20
const PROBE = join(fileURLToPath(new URL('.', import.meta.url)), 'memory-probe.mjs')

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/**
 * Requests with compressed bodies: a create in gzip, a replace in deflate, a delete in br, and
 * two that decode to 80 KiB from under 1 KiB on the wire (gzip and br): a delete whose name is
 * 80 KiB long (answered 400) and a replace whose metadata is (answered 200, then deleted by
 * the next request). The small ones vary by name; the large ones are compressed once, up front.
 */
function compressedRequests(a: () => Record<string, string>, name: () => string): autocannon.Request[] {
  const big = (o: object) => Buffer.from(JSON.stringify(o))
  const longName = gzipSync(big({ name: 'n'.repeat(80 * 1024) }))
  const largeMetadata = brotliCompressSync(
    big({ name: 'soak-large', type: 'openai', metadata: { pad: 'm'.repeat(80 * 1024) } }),
  )
  const coded = (coding: string) => ({ ...a(), 'content-encoding': coding })
  return [
    {
      method: 'POST',
      path: '/v1/ai_secret',
      headers: coded('gzip'),
      setupRequest: (r) => ({
        ...r,
        body: gzipSync(big({ name: name(), secret: 'sk-rel-soak-written-Yt6' })) as unknown as string,
      }),
    },
    {
      method: 'PUT',
      path: '/v1/ai_secret',
      headers: coded('deflate'),
      setupRequest: (r) => ({ ...r, body: deflateSync(big({ name: name(), type: 'openai' })) as unknown as string }),
    },
    {
      method: 'DELETE',
      path: '/v1/ai_secret',
      headers: coded('br'),
      setupRequest: (r) => ({ ...r, body: brotliCompressSync(big({ name: name() })) as unknown as string }),
    },
    { method: 'DELETE', path: '/v1/ai_secret', headers: coded('gzip'), body: longName as unknown as string },
    { method: 'PUT', path: '/v1/ai_secret', headers: coded('br'), body: largeMetadata as unknown as string },
    {
      method: 'DELETE',
      path: '/v1/ai_secret',
      headers: a(),
      body: JSON.stringify({ name: 'soak-large' }),
    },
  ]
}

export async function soak(o: {
  total: number
  warmup: number
  connections: number
  log?: (s: string) => void
}): Promise<SoakReport> {
  const dir = tempDir('rel-soak-')
  const memoryFile = join(dir, 'memory.jsonl')
  const server = await startCli(
    ['--seed', writeSeed(dir, NAMES, 'soak'), '--log-level', 'warn'],
    { SOAK_MEMORY_FILE: memoryFile, RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) },
    20_000,
    ['--expose-gc', '--import', PROBE],
  )
  const problems: string[] = []
  const samples: number[] = []
  const rssStart = rss(server.pid)
  const timer = setInterval(() => {
    try {
      samples.push(rss(server.pid))
    } catch {
      // the process is gone: the run reports it
    }
  }, 1000)
  const leaks = new LeakWatch()
  leaks.add(RACE_KEY, 'owner key')
  for (let i = 0; i < NAMES; i++) leaks.add(RACE_SECRET(i), 'seeded secret value')
  leaks.add('sk-rel-soak-written-Yt6', 'written secret value')
  leaks.add('sk-rel-soak-unknown-key', 'unknown key')

  try {
    const rule = await fetch(`${server.url}/_mock/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'GET', path: FAULTED, status: 429, retry_after: 1, delay_ms: 2 }),
    })
    if (rule.status !== 201) problems.push(`the fault rule was refused: ${rule.status} ${await rule.text()}`)
    const list = await http(server.port, {
      method: 'GET',
      path: '/v1/ai_secret',
      headers: { authorization: `Bearer ${RACE_KEY}` },
    })
    const ids =
      list.kind === 'answer' ? (JSON.parse(list.body) as { objects: { id: string }[] }).objects.map((s) => s.id) : []
    let n = 0
    const next = () => (n = (n * 1103515245 + 12345) & 0x7fffffff)
    const pick = <T>(xs: T[]) => xs[next() % xs.length]!
    const name = () => `soak-${next() % NAMES}`
    // A fresh headers object each: autocannon writes content-length into the one it is given.
    const a = () => ({ authorization: `Bearer ${RACE_KEY}`, 'content-type': 'application/json' })
    const requests: autocannon.Request[] = [
      { method: 'GET', path: '/v1/ai_secret?limit=10', headers: a() },
      { method: 'GET', setupRequest: (r) => ({ ...r, path: `/v1/ai_secret/${pick(ids)}` }), headers: a() },
      {
        method: 'DELETE',
        path: '/v1/ai_secret',
        headers: a(),
        setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: name() }) }),
      },
      {
        method: 'POST',
        path: '/v1/ai_secret',
        headers: a(),
        setupRequest: (r) => ({
          ...r,
          body: JSON.stringify({
            name: name(),
            type: 'openai',
            secret: 'sk-rel-soak-written-Yt6',
            metadata: { at: n },
          }),
        }),
      },
      {
        method: 'PUT',
        path: '/v1/ai_secret',
        headers: a(),
        setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: name(), type: 'anthropic' }) }),
      },
      {
        method: 'PATCH',
        headers: a(),
        setupRequest: (r) => ({ ...r, path: `/v1/ai_secret/${pick(ids)}`, body: JSON.stringify({ metadata: { n } }) }),
      },
      { method: 'GET', path: '/v1/ai_secret', headers: { authorization: 'Bearer sk-rel-soak-unknown-key' } },
      // (Not a body that is not JSON: after such a 400 Fastify closes the connection, and autocannon
      // loses the request it had written behind it. The hostile-input run covers those.)
      { method: 'DELETE', path: '/v1/ai_secret', headers: a(), body: '{"name": 5}' },
      {
        method: 'DELETE',
        path: '/v1/ai_secret',
        headers: a(),
        body: JSON.stringify({ name: 'x', org_name: 'elsewhere' }),
      },
      { method: 'GET', path: '/nowhere', headers: a() },
      { method: 'GET', path: `/v1/ai_secret?ai_secret_name=soak-1&ai_secret_type=openai,anthropic`, headers: a() },
      { method: 'DELETE', path: '/v1/ai_secret/not-a-uuid', headers: a() },
      { method: 'GET', path: FAULTED, headers: a() },
      { method: 'GET', path: '/v1/ai_secret?limit=1', headers: { ...a(), prefer: 'code=429' } },
      { method: 'GET', path: '/v1/ai_secret?limit=1', headers: { ...a(), prefer: 'delay=1' } },
      ...compressedRequests(a, name),
    ]
    const readingsSoFar = () => (existsSync(memoryFile) ? readFileSync(memoryFile, 'utf8').split('\n').length - 1 : 0)
    /** A reading while the load is paused: signal the probe, wait until its line is written. */
    const reading = async () => {
      const before = readingsSoFar()
      server.child.kill('SIGUSR2')
      for (let i = 0; i < 100 && readingsSoFar() === before; i++)
        await new Promise((resolve) => setTimeout(resolve, 50))
    }
    let seen = 0
    // Readings (forced collections) every signalEvery answers, from the start: the warm-up's are
    // not judged, but keep V8 in the same state before the level is read as after it.
    const signalEvery = Math.max(1, Math.floor((o.total - o.warmup) / READINGS))
    let signalFrom = signalEvery
    const onResponse = (_status: number, body: string) => {
      // Every 97th answer goes through the secrets check (all of them would slow the run down).
      if (++seen % 97 === 0) leaks.check(body, 'soak answer')
      if (seen >= signalFrom && (seen - signalFrom) % signalEvery === 0) server.child.kill('SIGUSR2')
    }
    const run = (amount: number) =>
      autocannon({
        url: server.url,
        connections: o.connections,
        amount,
        timeout: 10,
        requests: requests.map((r) => ({ ...r, onResponse })),
      })

    const began = Date.now()
    const warm = await run(o.warmup)
    const warmedAt = Date.now()
    await reading()
    samples.length = 0
    signalFrom = seen + signalEvery
    o.log?.(`  warm-up: ${o.warmup} requests, RSS ${(rss(server.pid) / MiB).toFixed(1)} MiB`)
    const progress = setInterval(
      () => o.log?.(`  ... RSS ${((samples[samples.length - 1] ?? NaN) / MiB).toFixed(1)} MiB`),
      30_000,
    )
    const main = await run(o.total - o.warmup)
    clearInterval(progress)
    const mainEnded = Date.now()
    await reading()
    const seconds = (mainEnded - began) / 1000

    const byStatus: Record<string, number> = {}
    for (const res of [warm, main])
      for (const [k, v] of Object.entries(res.statusCodeStats ?? {})) byStatus[k] = (byStatus[k] ?? 0) + (v.count ?? 0)
    const requestsDone = Object.values(byStatus).reduce((a, b) => a + b, 0)
    const errors = warm.errors + main.errors
    const timeouts = warm.timeouts + main.timeouts
    if (errors > 0) problems.push(`${errors} connection errors (${timeouts} timeouts)`)
    for (const k of Object.keys(byStatus)) if (Number(k) >= 500) problems.push(`${byStatus[k]} answers ${k}`)

    const readings = readFileSync(memoryFile, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AfterGc)
    const after = readings.filter((r) => r.at > warmedAt)
    const rssMaxBetween = samples.length === 0 ? NaN : Math.max(...samples)
    let level = NaN
    let rssMax = NaN
    let growthPct = NaN
    let trend = NaN
    if (after.length < READINGS / 2) {
      problems.push(
        `only ${after.length} memory readings after warm-up, of ${READINGS + 2} asked for: the probe did not answer`,
      )
    } else {
      level = after[0]!.rss
      rssMax = Math.max(...after.map((r) => r.rss))
      growthPct = (rssMax / level - 1) * 100
      if (growthPct > 10)
        problems.push(
          `RSS after a full collection grew ${growthPct.toFixed(1)} % over its level after warm-up (${(level / MiB).toFixed(1)} -> ${(rssMax / MiB).toFixed(1)} MiB)`,
        )
      // The level is read at 0 requests after warm-up, reading k after k * signalEvery, the last at the end.
      const served = after.map((_, i) => (i === after.length - 1 ? o.total - o.warmup : i * signalEvery))
      trend =
        slope(
          served,
          after.map((r) => r.rss / MiB),
        ) * 100_000
    }
    const used = after.map((r) => r.heapUsed / MiB)
    if (requestsDone < o.total) problems.push(`only ${requestsDone} of ${o.total} requests answered`)
    if (leaks.leaks.length > 0) problems.push(`${leaks.leaks.length} leaks: ${JSON.stringify(leaks.leaks.slice(0, 3))}`)

    server.child.kill('SIGTERM')
    const exit = await server.exited
    if (exit.code !== 0) problems.push(`exit code ${exit.code ?? exit.signal}`)
    const errorLogs = server.logLines().filter((l) => /"level":(5\d|60)/.test(l))
    if (errorLogs.length > 0)
      problems.push(`${errorLogs.length} error log lines, the first: ${errorLogs[0]!.slice(0, 300)}`)
    return {
      requests: requestsDone,
      warmup: o.warmup,
      seconds,
      rps: Math.round(requestsDone / seconds),
      byStatus,
      errors,
      timeouts,
      rssStartMiB: rssStart / MiB,
      rssAfterWarmupMiB: level / MiB,
      rssMaxMiB: rssMax / MiB,
      rssEndMiB: (after[after.length - 1]?.rss ?? NaN) / MiB,
      growthPct,
      readingsAfterWarmup: after.length,
      trendMiBPer100k: trend,
      heapUsedMiB: {
        level: used[0] ?? NaN,
        max: used.length === 0 ? NaN : Math.max(...used),
        end: used[used.length - 1] ?? NaN,
      },
      rssMaxBetweenGcMiB: rssMaxBetween / MiB,
      samples: after.map((r) => Math.round((r.rss / MiB) * 10) / 10),
      leaksChecked: leaks.texts,
      leaks: leaks.leaks.length,
      problems,
    }
  } finally {
    clearInterval(timer)
    server.child.kill('SIGKILL')
  }
}
