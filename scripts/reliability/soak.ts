// Bounded memory: a soak of many requests (autocannon) against the CLI child process, a
// mix of list, get, create, replace, patch and delete with errors among them (401, 400,
// 403, 404), over a bounded set of names so that the data itself stays the same size.
// The child's RSS is read from /proc every second; after warm-up it must stay within 10 %.

import autocannon from 'autocannon'
import { LeakWatch } from './leaks.js'
import { RACE_KEY, RACE_SECRET, rss, startCli, tempDir, writeSeed } from './proc.js'
import { http } from './net.js'

export interface SoakReport {
  requests: number
  warmup: number
  seconds: number
  rps: number
  byStatus: Record<string, number>
  errors: number
  timeouts: number
  rssStartMiB: number
  rssAfterWarmupMiB: number
  rssMaxMiB: number
  rssEndMiB: number
  /** Max over warm-up level, in percent. */
  growthPct: number
  samples: number[]
  leaksChecked: number
  leaks: number
  problems: string[]
}

const NAMES = 500
const MiB = 1024 * 1024

export async function soak(o: { total: number; warmup: number; connections: number; log?: (s: string) => void }): Promise<SoakReport> {
  const dir = tempDir('rel-soak-')
  const server = await startCli(['--seed', writeSeed(dir, NAMES, 'soak'), '--log-level', 'warn'])
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
    const list = await http(server.port, { method: 'GET', path: '/v1/ai_secret', headers: { authorization: `Bearer ${RACE_KEY}` } })
    const ids = list.kind === 'answer' ? (JSON.parse(list.body) as { objects: { id: string }[] }).objects.map((s) => s.id) : []
    let n = 0
    const next = () => (n = (n * 1103515245 + 12345) & 0x7fffffff)
    const pick = <T>(xs: T[]) => xs[next() % xs.length]!
    const name = () => `soak-${next() % NAMES}`
    // A fresh headers object each: autocannon writes content-length into the one it is given.
    const a = () => ({ authorization: `Bearer ${RACE_KEY}`, 'content-type': 'application/json' })
    const requests: autocannon.Request[] = [
      { method: 'GET', path: '/v1/ai_secret?limit=10', headers: a() },
      { method: 'GET', setupRequest: (r) => ({ ...r, path: `/v1/ai_secret/${pick(ids)}` }), headers: a() },
      { method: 'DELETE', path: '/v1/ai_secret', headers: a(), setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: name() }) }) },
      { method: 'POST', path: '/v1/ai_secret', headers: a(), setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: name(), type: 'openai', secret: 'sk-rel-soak-written-Yt6', metadata: { at: n } }) }) },
      { method: 'PUT', path: '/v1/ai_secret', headers: a(), setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: name(), type: 'anthropic' }) }) },
      { method: 'PATCH', headers: a(), setupRequest: (r) => ({ ...r, path: `/v1/ai_secret/${pick(ids)}`, body: JSON.stringify({ metadata: { n } }) }) },
      { method: 'GET', path: '/v1/ai_secret', headers: { authorization: 'Bearer sk-rel-soak-unknown-key' } },
      // (Not a body that is not JSON: after such a 400 Fastify closes the connection, and autocannon
      // loses the request it had written behind it. The hostile-input run covers those.)
      { method: 'DELETE', path: '/v1/ai_secret', headers: a(), body: '{"name": 5}' },
      { method: 'DELETE', path: '/v1/ai_secret', headers: a(), body: JSON.stringify({ name: 'x', org_name: 'elsewhere' }) },
      { method: 'GET', path: '/nowhere', headers: a() },
      { method: 'GET', path: `/v1/ai_secret?ai_secret_name=soak-1&ai_secret_type=openai,anthropic`, headers: a() },
      { method: 'DELETE', path: '/v1/ai_secret/not-a-uuid', headers: a() },
    ]
    let seen = 0
    const onResponse = (_status: number, body: string) => {
      // Every 97th answer goes through the secrets check (all of them would slow the run down).
      if (++seen % 97 === 0) leaks.check(body, 'soak answer')
    }
    const run = (amount: number) =>
      autocannon({ url: server.url, connections: o.connections, amount, timeout: 10, requests: requests.map((r) => ({ ...r, onResponse })) })

    const began = Date.now()
    const warm = await run(o.warmup)
    const rssAfterWarmup = rss(server.pid)
    samples.length = 0
    o.log?.(`  warm-up: ${o.warmup} requests, RSS ${(rssAfterWarmup / MiB).toFixed(1)} MiB`)
    const progress = setInterval(() => o.log?.(`  ... RSS ${((samples[samples.length - 1] ?? NaN) / MiB).toFixed(1)} MiB`), 30_000)
    const main = await run(o.total - o.warmup)
    clearInterval(progress)
    const seconds = (Date.now() - began) / 1000
    const rssEnd = rss(server.pid)
    samples.push(rssEnd)

    const byStatus: Record<string, number> = {}
    for (const res of [warm, main]) for (const [k, v] of Object.entries(res.statusCodeStats ?? {})) byStatus[k] = (byStatus[k] ?? 0) + (v.count ?? 0)
    const requestsDone = Object.values(byStatus).reduce((a, b) => a + b, 0)
    const errors = warm.errors + main.errors
    const timeouts = warm.timeouts + main.timeouts
    if (errors > 0) problems.push(`${errors} connection errors (${timeouts} timeouts)`)
    for (const k of Object.keys(byStatus)) if (Number(k) >= 500) problems.push(`${byStatus[k]} answers ${k}`)
    const rssMax = Math.max(...samples)
    const growthPct = (rssMax / rssAfterWarmup - 1) * 100
    if (growthPct > 10) problems.push(`RSS grew ${growthPct.toFixed(1)} % over its level after warm-up`)
    if (requestsDone < o.total) problems.push(`only ${requestsDone} of ${o.total} requests answered`)
    if (leaks.leaks.length > 0) problems.push(`${leaks.leaks.length} leaks: ${JSON.stringify(leaks.leaks.slice(0, 3))}`)

    server.child.kill('SIGTERM')
    const exit = await server.exited
    if (exit.code !== 0) problems.push(`exit code ${exit.code ?? exit.signal}`)
    const errorLogs = server.logLines().filter((l) => /"level":(5\d|60)/.test(l))
    if (errorLogs.length > 0) problems.push(`${errorLogs.length} error log lines, the first: ${errorLogs[0]!.slice(0, 300)}`)
    return {
      requests: requestsDone,
      warmup: o.warmup,
      seconds,
      rps: Math.round(requestsDone / seconds),
      byStatus,
      errors,
      timeouts,
      rssStartMiB: rssStart / MiB,
      rssAfterWarmupMiB: rssAfterWarmup / MiB,
      rssMaxMiB: rssMax / MiB,
      rssEndMiB: rssEnd / MiB,
      growthPct,
      samples: samples.map((s) => Math.round((s / MiB) * 10) / 10),
      leaksChecked: leaks.texts,
      leaks: leaks.leaks.length,
      problems,
    }
  } finally {
    clearInterval(timer)
    server.child.kill('SIGKILL')
  }
}
