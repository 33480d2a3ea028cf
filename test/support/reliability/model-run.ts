// A model-based campaign: many scenarios (test/support/reliability/model.ts) against one app,
// re-seeded for each, and every `freshEvery`-th against an app built with buildApp({ seed }).
// Used by test/reliability/model.test.ts (a few hundred), `npm run fuzz` and the long run.
import { Writable } from 'node:stream'
import fc from 'fast-check'
import type { Test } from 'tap'
import { type BuiltMock, buildMockApp } from '../../../src/app.js'
import { checkUpstream } from '../app.js'
import { LeakWatch } from './leaks.js'
import {
  JWT_SECRET,
  newStats,
  reseed,
  runScenario,
  scenarioArb,
  seedOf,
  type Exec,
  type RunStats,
  type Scenario,
} from './model.js'

export interface CampaignOptions {
  runs: number
  seed: number
  maxOps?: number
  freshEvery?: number
  /** Called every `every` scenarios. */
  progress?: { every: number; report: (done: number, stats: RunStats) => void }
}

export interface CampaignResult {
  scenarios: number
  fresh: number
  stats: RunStats
  leaks: LeakWatch
  logLines: number
  journalChecks: number
  ms: number
  /** fast-check's report (seed, path, shrunk counterexample, the disagreements), or null. */
  failure: string | null
}

/** Collects what checkUpstream finds instead of failing a tap test at once (fast-check shrinks first). */
function upstreamSink(problems: string[]): Test {
  return {
    fail: (msg: string, extra?: unknown) =>
      problems.push(`upstream: ${msg} ${extra === undefined ? '' : JSON.stringify(extra).slice(0, 400)}`),
  } as unknown as Test
}

export async function modelCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const began = Date.now()
  const lines: string[] = []
  // Everything at trace level goes through the secrets check.
  const stream = new Writable({
    write: (chunk, _enc, cb) => {
      lines.push(String(chunk))
      cb()
    },
  })
  const logger = { level: 'trace', stream }
  const base = { db: ':memory:', deterministic: true, jwtSecret: JWT_SECRET, docs: false, logger }
  const built = await buildMockApp({ ...base, seed: false })
  const { app } = built
  const journal = app.hasRoute({ method: 'GET', url: '/_mock/requests' })
  const leaks = new LeakWatch()
  const stats = newStats()
  const freshEvery = opts.freshEvery ?? 20
  let scenarios = 0
  let fresh = 0
  let logLines = 0
  let journalChecks = 0

  const property = fc.asyncProperty(scenarioArb(opts.maxOps), async (scenario: Scenario) => {
    scenarios++
    let target: BuiltMock = built
    if (scenarios % freshEvery === 0) {
      fresh++
      target = await buildMockApp({ ...base, seed: seedOf(scenario.world) })
    } else reseed(built.mock, scenario.world)
    const problems: string[] = []
    const exec: Exec = async (req) => {
      const res = await target.app.inject(req)
      checkUpstream(upstreamSink(problems), req.method, req.url, res)
      return res
    }
    try {
      problems.push(...(await runScenario(target, scenario, { exec, leaks, stats })))
      if (journal) {
        journalChecks++
        const entries = await target.app.inject({ method: 'GET', url: '/_mock/requests' })
        for (const leak of leaks.check(entries.body, 'journal'))
          problems.push(`LEAK in the journal: ${leak.what}: ${leak.excerpt}`)
        await target.app.inject({ method: 'DELETE', url: '/_mock/requests' })
      }
    } finally {
      if (target !== built) await target.app.close()
    }
    for (const line of lines.splice(0)) {
      logLines++
      for (const leak of leaks.check(line, 'log line'))
        problems.push(`LEAK in a log line: ${leak.what}: ${leak.excerpt}`)
    }
    if (opts.progress !== undefined && scenarios % opts.progress.every === 0) opts.progress.report(scenarios, stats)
    if (problems.length > 0) throw new Error(problems.join('\n'))
  })

  let failure: string | null = null
  try {
    await fc.assert(property, { numRuns: opts.runs, seed: opts.seed })
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause
    failure = `${(err as Error).message}${cause === undefined ? '' : `\n${cause.message}`}`
  } finally {
    await app.close()
  }
  return { scenarios, fresh, stats, leaks, logLines, journalChecks, ms: Date.now() - began, failure }
}
