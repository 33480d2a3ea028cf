// The machinery of the doc test (test/docs/examples.test.ts, code-examples.test.ts,
// commands.test.ts), over README.md and every docs/*.md: a fresh instance of the built CLI, a
// shell that runs an example's commands as a reader would, and the comparison of what they
// print with what the page shows.

import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { startMockServer } from '../../src/start-mock-server.js'
import { docPages, markdownBlocks, type Block } from './doc-blocks.js'

export interface Page {
  /** Relative to the package root: `README.md`, `docs/control-plane.md`. */
  file: string
  markdown: string
  blocks: Block[]
}

/** The pages whose examples run: README.md, then every docs/*.md. */
export const PAGES: Page[] = docPages(PACKAGE_ROOT).map((file) => {
  const markdown = readFileSync(join(PACKAGE_ROOT, file), 'utf8')
  return { file, markdown, blocks: markdownBlocks(markdown, file) }
})
/** Every block of every page, page by page. */
export const BLOCKS: Block[] = PAGES.flatMap((p) => p.blocks)

const PKG = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>
  scripts: Record<string, string>
}
/** The package's bin, as package.json names it (npm test builds it). */
export const BIN = join(PACKAGE_ROOT, PKG.bin['ai-secret-mock']!)
export const SCRIPTS = PKG.scripts

/** Where a line of a page is, for messages: `docs/api.md:123`. */
export const at = (file: string, line: number) => `${file}:${line}`

// --- a reader's environment ---------------------------------------------------------------

/**
 * A fresh directory a reader might run the examples in: a project with the package installed
 * (node_modules/ai-secret-mock linked to this checkout, its bin in node_modules/.bin), `dist`
 * linked as in a clone (for `node dist/cli.mjs`), and a bin directory first on PATH where
 * `npm start [-- FLAGS]` is the built bin (npm start is scripts/start.mjs, which builds only
 * when dist/ is older than the sources, and npm test has built it) and `npx ai-secret-mock` is
 * the installed bin. Nothing else of npm runs: the examples must not reach a registry.
 */
export function readerDir(): { cwd: string; env: Record<string, string> } {
  const cwd = mkdtempSync(join(tmpdir(), 'docs-reader-'))
  writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'readme-reader', private: true, type: 'module' }))
  mkdirSync(join(cwd, 'node_modules', '.bin'), { recursive: true })
  symlinkSync(PACKAGE_ROOT, join(cwd, 'node_modules', 'ai-secret-mock'))
  symlinkSync(
    join('..', 'ai-secret-mock', PKG.bin['ai-secret-mock']!),
    join(cwd, 'node_modules', '.bin', 'ai-secret-mock'),
  )
  symlinkSync(join(PACKAGE_ROOT, 'dist'), join(cwd, 'dist'))
  // msw, which the MSW examples install beside the package (its optional peer).
  symlinkSync(join(PACKAGE_ROOT, 'node_modules', 'msw'), join(cwd, 'node_modules', 'msw'))
  // The committed transcripts, as in a clone (the conformance examples compare with them).
  symlinkSync(join(PACKAGE_ROOT, 'openapi'), join(cwd, 'openapi'))
  const bin = join(cwd, '.doctest-bin')
  mkdirSync(bin)
  const script = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  script(
    'npm',
    [
      `if [ "$1" = start ]; then shift; [ "$1" = -- ] && shift; exec node "${BIN}" "$@"; fi`,
      'if [ "$1" = run ] && [ "$2" = build ]; then exit 0; fi',
      'echo "the doc test does not run: npm $*" >&2; exit 127',
    ].join('\n'),
  )
  script(
    'npx',
    [
      'if [ "$1" = ai-secret-mock ]; then shift; exec "' +
        join(cwd, 'node_modules', '.bin', 'ai-secret-mock') +
        '" "$@"; fi',
      'echo "the doc test does not run: npx $*" >&2; exit 127',
    ].join('\n'),
  )
  // curl as on a terminal: no progress meter (it goes to stderr when the output is not one).
  writeFileSync(join(cwd, '.curlrc'), 'silent\nshow-error\n')
  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? cwd,
    CURL_HOME: cwd,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    // A server an example starts listens on a free port (its banner is compared with 8000).
    PORT: '0',
  }
  return { cwd, env }
}

/** The environment of a child process, without what tap gives its own (coverage, loaders). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k] !== undefined) env[k] = process.env[k]!
  return { ...env, ...extra }
}

// --- an instance ------------------------------------------------------------------------------

export interface Instance {
  url: string
  port: number
  stop(): Promise<void>
}

/**
 * A fresh instance on a free port, as the CLI makes it from the flags (`--deterministic`) and
 * `NAME=value` environment variables given (its own parseConfig), served in this process by
 * startMockServer (the same buildApp), quiet. It listens on loopback, as the CLI does by default;
 * `--host`, `--port` and TLS are not taken (the examples reach it over HTTP at localhost:8000).
 */
export async function startInstance(words: string[]): Promise<Instance> {
  const flags = words.filter((w) => !/^[A-Z_]+=/.test(w))
  const env = Object.fromEntries(
    words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  )
  const c = parseConfig(flags, env)
  const server = await startMockServer({
    port: 0,
    db: c.db,
    seed: c.seed,
    logger: false,
    deterministic: c.deterministic,
    adminToken: c.adminToken,
    rateLimitPerMinute: c.rateLimitPerMinute,
    journalSize: c.journalSize,
    jwtSecret: c.jwtSecret,
    allowedHosts: c.allowedHosts,
    corsOrigins: c.corsOrigins,
    requestTimeoutMs: c.requestTimeoutMs,
  })
  return { url: server.url, port: Number(new URL(server.url).port), stop: () => server.close() }
}

// --- a shell ------------------------------------------------------------------------------------

export interface Ran {
  /** What the command printed, stdout and stderr as a terminal shows them (\r\n made \n). */
  output: string
  code: number
}

/** What a server command's banner must start with. */
export const BANNER = 'ai-secret-mock listening on'

/**
 * Runs commands in one bash, in order, as a reader types them (variables carry over), and
 * returns each one's output and exit status. A command marked `server` starts a server: it
 * runs in the background until its banner is out, then is stopped; its output is the banner
 * (JSON log lines left out).
 */
export async function runShell(
  commands: { text: string; server?: boolean }[],
  cwd: string,
  env: Record<string, string>,
): Promise<Ran[]> {
  // After each command, a marker with its exit status; then $? is put back for the next command.
  const lines = ['exec 2>&1', 'set -m', 'doctest_status() { return "$1"; }']
  commands.forEach((c, i) => {
    if (c.server === true) {
      lines.push(
        `( ${c.text}\n) > .doctest-server-${i}.out 2>&1 &`,
        'doctest_pid=$!',
        `for doctest_i in $(seq 1 600); do grep -q '${BANNER}' .doctest-server-${i}.out && break; kill -0 $doctest_pid 2>/dev/null || break; sleep 0.05; done`,
        'sleep 0.2',
        'kill -- -$doctest_pid 2>/dev/null; wait $doctest_pid 2>/dev/null',
        `grep -v '^{' .doctest-server-${i}.out`,
        'true',
      )
    } else lines.push(c.text)
    lines.push(`doctest_rc=$?; printf '\\036doctest ${i} %d\\036\\n' $doctest_rc; doctest_status $doctest_rc`)
  })
  const child = spawn('bash', ['--noprofile', '--norc', '-c', lines.join('\n')], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  await new Promise((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  const text = stdout.replace(/\r\n/g, '\n')
  const out: Ran[] = []
  let rest = text
  for (let i = 0; i < commands.length; i++) {
    const m = new RegExp(`\\x1edoctest ${i} (\\d+)\\x1e\\n`).exec(rest)
    if (m === null) {
      out.push({ output: `${rest}${stderr}`, code: -1 })
      break
    }
    out.push({ output: rest.slice(0, m.index), code: Number(m[1]) })
    rest = rest.slice(m.index + m[0].length)
  }
  return out
}

/** Runs a program to its end without blocking this process (an instance may be serving in it). */
export async function runProgram(
  file: string,
  args: string[],
  o: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ status: number | null; output: string }> {
  const child = spawn(file, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs)
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  clearTimeout(timer)
  return { status, output: output.slice(-3000) }
}

// --- console examples ----------------------------------------------------------------------------

export interface ConsoleCommand {
  /** 1-based line of the `$ ` line on its page. */
  line: number
  /** The command without its `$ ` prompt, continuation lines included. */
  text: string
  /** The lines shown after it, up to the next command (trailing blank lines dropped). */
  expected: string[]
}

/** Splits a console block into its commands (`$ ` lines, `\` continuations) and their shown output. */
export function consoleCommands(b: Block): ConsoleCommand[] {
  const out: ConsoleCommand[] = []
  for (let i = 0; i < b.lines.length; i++) {
    const l = b.lines[i]!
    if (!l.startsWith('$ ')) {
      if (out.length === 0)
        throw new Error(`${at(b.file, b.line + 1 + i)}: a console block must start with a $ command line`)
      out[out.length - 1]!.expected.push(l)
      continue
    }
    const cmd: ConsoleCommand = { line: b.line + 1 + i, text: l.slice(2), expected: [] }
    while (cmd.text.endsWith('\\') && i + 1 < b.lines.length) cmd.text += `\n${b.lines[++i]!}`
    out.push(cmd)
  }
  for (const c of out)
    while (c.expected.length > 0 && c.expected[c.expected.length - 1]!.trim() === '') c.expected.pop()
  return out
}

/** Points a command at the instance instead of the page's port 8000; a server it starts gets a free port. */
export function retarget(command: string, port: number | null): string {
  let c = command.replace(/--port 8000\b/g, '--port 0')
  if (port !== null) c = c.replace(/\b(localhost|127\.0\.0\.1):8000\b/g, `$1:${port}`)
  return c
}

export const refersToInstance = (command: string) => /\b(localhost|127\.0\.0\.1):8000\b/.test(command)

// --- comparing ---------------------------------------------------------------------------------

/** The wildcard of the docs: a line of its own (any lines), a JSON value, or a key (other keys). */
export const ANY = '…'

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g

/**
 * Makes what varies from run to run comparable: uuids (request ids included) become <uuid-1>,
 * <uuid-2>, … in order of first appearance, so that the same id twice stays the same; times
 * become <time>. With a deterministic instance ids and times are repeatable and kept as they are.
 * The port of a server started by the example reads 8000, as on the page.
 */
export class Normaliser {
  private readonly ids = new Map<string, string>()
  constructor(private readonly deterministic: boolean) {}

  text(s: string): string {
    let out = s.replace(/"duration_ms":\s*[\d.]+/g, '"duration_ms":<ms>')
    // The random part of a conformance run's names (src/conformance/): new for each run.
    out = out.replace(/aismock-conformance-[a-z0-9]{8}/g, 'aismock-conformance-<run>')
    if (this.deterministic) return out
    out = out.replace(UUID, (u) => {
      const k = u.toLowerCase()
      if (!this.ids.has(k)) this.ids.set(k, `<uuid-${this.ids.size + 1}>`)
      return this.ids.get(k)!
    })
    return out.replace(ISO_TIME, '<time>').replace(/timestamp=\d+(?:\.\d+)?/g, 'timestamp=<time>')
  }

  /** The same for parsed JSON, keys visited in sorted order so that both sides number alike. */
  json(v: unknown, key?: string): unknown {
    if (key === 'duration_ms' && typeof v === 'number') return '<ms>'
    if (typeof v === 'string') return this.text(v)
    if (Array.isArray(v)) return v.map((x) => this.json(x))
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, this.json(o[k], k)]),
      )
    }
    return v
  }
}

/**
 * The actual value cut to the page's shape: where the page shows `"…"` the actual value
 * reads `"…"` too, and an object whose shown form has the key `"…"` keeps only the keys the
 * page shows (plus `"…"`). What is left must equal the shown value.
 */
export function project(expected: unknown, actual: unknown): unknown {
  if (expected === ANY || expected === '...') return expected
  if (Array.isArray(expected) && Array.isArray(actual))
    return actual.map((a, i) => (i < expected.length ? project(expected[i], a) : a))
  if (
    expected !== null &&
    typeof expected === 'object' &&
    actual !== null &&
    typeof actual === 'object' &&
    !Array.isArray(actual)
  ) {
    const e = expected as Record<string, unknown>
    const a = actual as Record<string, unknown>
    const open = ANY in e
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(a)) {
      if (k in e) out[k] = project(e[k], a[k])
      else if (!open) out[k] = a[k]
    }
    if (open) out[ANY] = e[ANY]
    return out
  }
  return actual
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

/** Lines with `…` lines matching any number of lines. */
export function linesMatch(expected: string[], actual: string[]): boolean {
  if (!expected.includes(ANY)) return expected.length === actual.length && expected.every((l, i) => l === actual[i])
  const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const re = new RegExp(`^${expected.map((l) => (l === ANY ? '(?:[^\\n]*\\n)*?' : `${escapeRegExp(l)}\\n`)).join('')}$`)
  return re.test(actual.map((l) => `${l}\n`).join(''))
}

/** Headers that change with every answer or connection; a page need not show them. */
export const VARYING_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

export interface HttpText {
  status: string
  headers: Map<string, string>
  body: string
}

/** `curl -i` output: the status line, the headers, a blank line, the body. */
export function parseHttp(text: string): HttpText | null {
  const lines = text.split('\n')
  if (!/^HTTP\/\S+ \d{3}/.test(lines[0] ?? '')) return null
  const headers = new Map<string, string>()
  let i = 1
  for (; i < lines.length && lines[i] !== ''; i++) {
    const colon = lines[i]!.indexOf(':')
    headers.set(lines[i]!.slice(0, colon).trim().toLowerCase(), lines[i]!.slice(colon + 1).trim())
  }
  return { status: lines[0]!.trim(), headers, body: lines.slice(i + 1).join('\n') }
}

export type { Block }
