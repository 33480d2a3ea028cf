// Prints a results file of bench/run.ts as the Markdown the README's Results section holds:
//   node --import tsx bench/to-markdown.ts [bench/results.json]

import { readFileSync } from 'node:fs'

interface Run {
  label: string
  connections: number
  rps: number
  p50: number
  p99: number
  ratio?: number
  serverCpuUsPerRequest?: number | null
  cpuRatio?: number
  statuses: Record<string, number>
  capped: boolean
  rssStartMB?: number
  rssEndMB?: number
  roundsRps?: number[]
}
interface Results {
  date: string
  command: string
  machine: { nproc: number; cpu: string; node: string; os: string; memoryGB: number; commit: string; uncommittedSrcFiles?: number; loadAverage1m: { start: number; end: number } }
  settings: { warmupS: number; durationS: number; secrets: number; orgs: number; rounds?: number }
  runs: Run[]
  skipped: string[]
  coldStart: { runs: number[]; medianMs: number; medianRssMB: number | null } | null
  seed: { secrets: number; bulkInsertMs: number; applySeedMs: number; rssAfterMB: number } | null
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
  '| path | conns | req/s | p50 ms | p99 ms | × ceiling | CPU µs/req | CPU × ceiling | answers | RSS MB start → end | req/s by round |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
)
const f = (x: number | null | undefined, d: number) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(d))
for (const x of r.runs) {
  const answers = Object.entries(x.statuses).map(([s, c]) => `${c.toLocaleString('en-US')} × ${s}`).join(', ') + (x.capped ? ' (capped)' : '')
  out.push(
    `| ${x.label} | ${x.connections} | ${x.rps.toLocaleString('en-US')} | ${f(x.p50, 2)} | ${f(x.p99, 2)} | ${f(x.ratio, 2)} | ${f(x.serverCpuUsPerRequest, 0)} | ${f(x.cpuRatio, 2)} | ${answers} | ${f(x.rssStartMB, 0)} → ${f(x.rssEndMB, 0)} | ${(x.roundsRps ?? [x.rps]).map((n) => n.toLocaleString('en-US')).join(' / ')} |`,
  )
}
for (const s of r.skipped) out.push('', `Note: ${s}.`)
out.push('')
if (r.coldStart) out.push(`Cold start: median ${r.coldStart.medianMs} ms of ${r.coldStart.runs.join(', ')} ms; RSS after start-up ${r.coldStart.medianRssMB} MB (median).`)
if (r.seed) {
  out.push(
    '',
    `Seeding ${r.seed.secrets.toLocaleString('en-US')} secrets: bulk insert (Repository.insertSecrets) in one transaction ${(r.seed.bulkInsertMs / 1000).toFixed(1)} s; ` +
      `applySeed (the seed-file path) ${(r.seed.applySeedMs / 1000).toFixed(1)} s; RSS after ${r.seed.rssAfterMB} MB.`,
  )
}
out.push('', '| target | measured | goal | |', '| --- | --- | --- | --- |')
for (const t of r.targets) out.push(`| ${t.target} | ${t.measured} | ${t.goal} | ${t.pass === null ? 'n/a' : t.pass ? 'PASS' : '**MISS**'} |`)
if (r.failures.length > 0) out.push('', 'Broke:', ...r.failures.map((x) => `- ${x}`))
process.stdout.write(out.join('\n') + '\n')
