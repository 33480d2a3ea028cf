// Prints a results file of bench/run.ts as the Markdown the README's Results section holds:
//   node --import tsx bench/to-markdown.ts [bench/results.json | bench/results.peers.json]

import { readFileSync } from 'node:fs'

interface Run {
  label: string
  connections: number
  rps: number
  p50: number
  p99: number
  ratio?: number
  sqliteRatio?: number
  pairedSqliteRatio?: number
  pairedSqliteRatios?: number[]
  sqliteP99Ratio?: number
  serverCpuUsPerRequest?: number | null
  statuses: Record<string, number>
  capped: boolean
  rssStartMB?: number
  rssEndMB?: number
  roundsRps?: number[]
}
interface Latency {
  medianUs: number
  p99Us: number
  meanUs: number
}
interface Results {
  date: string
  command: string
  machine: {
    nproc: number
    cpu: string
    node: string
    os: string
    memoryGB: number
    commit: string
    uncommittedSrcFiles?: number
    loadAverage1m: { start: number; end: number }
  }
  settings: { warmupS: number; durationS: number; secrets: number; orgs: number; rounds?: number }
  runs: Run[]
  skipped: string[]
  coldStart: { runs: number[]; medianMs: number; medianRssMB: number | null } | null
  startup?: {
    emptyMs: number
    library: { ratio: number; medianMs: number; firstMs: number }
    cli: { ratio: number; medianMs: number; firstMs: number }
  } | null
  seed: { secrets: number; bulkInsertMs: number; applySeedMs: number; rssAfterMB: number } | null
  resets?: { resets: number; inject: Latency; direct: Latency } | null
  firstAnswer?: {
    prismVersion: string
    ratio: number
    mock: { medianMs: number; runs: number[] }
    prism: { medianMs: number; runs: number[] }
  } | null
  targets: { target: string; measured: string; goal: string; pass: boolean | null }[]
  failures: string[]
}

const r = JSON.parse(readFileSync(process.argv[2] ?? new URL('results.json', import.meta.url), 'utf8')) as Results
const m = r.machine
const out: string[] = []
out.push(
  `\`${r.command}\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commit}` +
    (m.uncommittedSrcFiles ? ` (+ ${m.uncommittedSrcFiles} uncommitted files in src/)` : '') +
    `: ${m.nproc} cores (\`nproc\`), ${m.cpu}, Node ${m.node}, ${m.os}, ${m.memoryGB} GB; ` +
    `1-minute load average ${m.loadAverage1m.start} before, ${m.loadAverage1m.end} after. ` +
    `${r.settings.secrets.toLocaleString('en-US')} secrets in ${r.settings.orgs} organizations; ${r.settings.warmupS} s warm-up and ${r.settings.durationS} s per run` +
    ((r.settings.rounds ?? 1) > 1 ? `; ${r.settings.rounds} rounds, the best shown.` : '.'),
  '',
  '| path | conns | req/s | p50 ms | p99 ms | × bare | × SQLite | same-round × SQLite | p99 × SQLite | CPU µs/req ' +
    '| answers | RSS MB start → end | req/s by round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
)
const f = (x: number | null | undefined, d: number) =>
  x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(d)
for (const x of r.runs) {
  const answers =
    Object.entries(x.statuses)
      .map(([s, c]) => `${c.toLocaleString('en-US')} × ${s}`)
      .join(', ') + (x.capped ? ' (capped)' : '')
  out.push(
    `| ${x.label} | ${x.connections} | ${x.rps.toLocaleString('en-US')} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${f(x.ratio, 2)} | ${f(x.sqliteRatio, 2)} | ` +
      `${x.pairedSqliteRatios === undefined ? '' : `${f(x.pairedSqliteRatio, 2)} (${x.pairedSqliteRatios.map((n) => n.toFixed(2)).join(' / ')})`} | ${f(x.sqliteP99Ratio, 2)} | ` +
      `${f(x.serverCpuUsPerRequest, 0)} | ${answers} | ${f(x.rssStartMB, 0)} → ${f(x.rssEndMB, 0)} | ${(x.roundsRps ?? [x.rps]).map((n) => n.toLocaleString('en-US')).join(' / ')} |`,
  )
}
for (const s of r.skipped) out.push('', `Note: ${s}.`)
out.push('')
if (r.coldStart)
  out.push(
    `Cold start: median ${r.coldStart.medianMs} ms of ${r.coldStart.runs.join(', ')} ms; RSS after start-up ${r.coldStart.medianRssMB} MB (median).`,
  )
if (r.startup) {
  const s = r.startup
  out.push(
    '',
    `Start-up against an empty \`node -e ""\` (median ${s.emptyMs} ms): library ${s.library.ratio} × (median ${s.library.medianMs} ms; first run, no code cache yet: ${s.library.firstMs} ms); ` +
      `CLI ${s.cli.ratio} × (median ${s.cli.medianMs} ms; first run ${s.cli.firstMs} ms).`,
  )
}
if (r.resets) {
  const us = (x: Latency) => `median ${x.medianUs} µs, p99 ${x.p99Us} µs`
  out.push(
    '',
    `Reset with the demo seed (${r.resets.resets} of each, one process): \`POST /_mock/reset\` by \`app.inject\` ${us(r.resets.inject)}; \`control.reset()\` alone ${us(r.resets.direct)}.`,
  )
}
if (r.firstAnswer) {
  const a = r.firstAnswer
  out.push(
    '',
    `Spawn → first 200 of \`DELETE /v1/ai_secret\` (median of ${a.mock.runs.length}, in turn): the mock's CLI ${a.mock.medianMs} ms (${a.mock.runs.join(', ')}); ` +
      `Prism ${a.prismVersion} ${a.prism.medianMs} ms (${a.prism.runs.join(', ')}).`,
  )
}
if (r.seed) {
  out.push(
    '',
    `Seeding ${r.seed.secrets.toLocaleString('en-US')} secrets: bulk insert (Repository.insertSecrets) in one transaction ${(r.seed.bulkInsertMs / 1000).toFixed(1)} s; ` +
      `applySeed (the seed-file path) ${(r.seed.applySeedMs / 1000).toFixed(1)} s; RSS after ${r.seed.rssAfterMB} MB.`,
  )
}
out.push('', '| target | measured | goal | |', '| --- | --- | --- | --- |')
for (const t of r.targets)
  out.push(`| ${t.target} | ${t.measured} | ${t.goal} | ${t.pass === null ? 'n/a' : t.pass ? 'PASS' : '**MISS**'} |`)
if (r.failures.length > 0) out.push('', 'Broke:', ...r.failures.map((x) => `- ${x}`))
process.stdout.write(`${out.join('\n')}\n`)
