// Summarises a V8 CPU profile written by `npm run bench -- --profile` (node --cpu-prof on the
// server child): where the measured run's time went, by package and by function.
//
//   node --import tsx bench/profile.ts bench/profiles/delete-memory-c10.cpuprofile [--top 30] [--conns 10]
//
// When a <name>.window.json sits beside the profile (run.ts writes one), only the samples
// taken during the measured runs count: start-up, seeding and warm-up are left out.

import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}
interface Window {
  connections: number
  startUs: string
  endUs: string
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, conns: { type: 'string' } },
})
const file = positionals[0]
if (file === undefined) {
  process.stderr.write('usage: node --import tsx bench/profile.ts FILE.cpuprofile [--top N] [--conns N]\n')
  process.exit(2)
}
const TOP = Number(values.top)
// `| head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1))
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile

let windows: Window[] = []
const windowFile = file.replace(/\.cpuprofile$/, '.window.json')
if (existsSync(windowFile)) {
  windows = (JSON.parse(readFileSync(windowFile, 'utf8')) as { windows: Window[] }).windows
  if (values.conns !== undefined) windows = windows.filter((w) => w.connections === Number(values.conns))
}
const inWindow = (t: number) =>
  windows.length === 0 || windows.some((w) => t >= Number(w.startUs) && t <= Number(w.endUs))

const byId = new Map<number, ProfileNode>()
const parent = new Map<number, number>()
for (const n of profile.nodes) {
  byId.set(n.id, n)
  for (const c of n.children ?? []) parent.set(c, n.id)
}

/** Where a function comes from: a package, node core, the app, or V8 itself. */
function origin(cf: CallFrame): string {
  const url = cf.url
  if (url === '') return cf.functionName.startsWith('(') ? cf.functionName : '(V8 builtins / native)'
  if (url.startsWith('node:')) return 'node core'
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  const src = url.indexOf('/src/')
  if (src >= 0) return `app ${url.slice(src + 1)}`
  return url
}

function fnKey(cf: CallFrame): string {
  const where =
    cf.url === ''
      ? ''
      : ` ${cf.url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^file:\/\//, '')}:${cf.lineNumber + 1}`
  return `${cf.functionName || '(anonymous)'}${where}`
}

const self = new Map<string, number>()
const selfOrigin = new Map<string, number>()
const inclusive = new Map<string, number>()
const inclusiveOrigin = new Map<string, number>()
let total = 0
let t = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  if (!inWindow(t)) continue
  // A sample stands for the time until the next one.
  const dt = profile.timeDeltas[i + 1] ?? 0
  total += dt
  const leaf = byId.get(profile.samples[i]!)!
  self.set(fnKey(leaf.callFrame), (self.get(fnKey(leaf.callFrame)) ?? 0) + dt)
  selfOrigin.set(origin(leaf.callFrame), (selfOrigin.get(origin(leaf.callFrame)) ?? 0) + dt)
  const seen = new Set<string>()
  const seenOrigin = new Set<string>()
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id)!.callFrame
    const k = fnKey(cf)
    if (!seen.has(k)) {
      seen.add(k)
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt)
    }
    const o = origin(cf)
    if (!seenOrigin.has(o)) {
      seenOrigin.add(o)
      inclusiveOrigin.set(o, (inclusiveOrigin.get(o) ?? 0) + dt)
    }
  }
}

const busy = total - (self.get('(idle)') ?? 0)
const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1).padStart(5)}%`
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`

function print(title: string, m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) {
  process.stdout.write(`\n${title}\n`)
  for (const [k, v] of [...m]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)) {
    process.stdout.write(`  ${ms(v)}  ${pct(v, busy)}  ${k}\n`)
  }
}

process.stdout.write(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled${windows.length > 0 ? ` in ${windows.length} measured run(s)` : ' (whole process: no window file)'}, ` +
    `${(busy / 1000).toFixed(0)} ms busy (not idle); percentages are of busy time\n`,
)
print('self time by origin', selfOrigin, TOP)
print('inclusive time by origin (time with a frame of it on the stack)', inclusiveOrigin, TOP)
print('self time by function', self, TOP)
print(
  'inclusive time by function (app and packages; not node core)',
  inclusive,
  TOP,
  (k) => !k.includes(' node:') && !k.startsWith('('),
)
