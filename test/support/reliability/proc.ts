// The built CLI (the package's bin, dist/cli.mjs) as a child process, as a user runs it: port 0, a file
// database, a seed file. Its JSON log lines are kept apart from its banner for the secrets
// check (the banner prints the demo seed's keys in full, by design, and previews of others).

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../../../src/paths.js'

/** The package's bin, as a user runs it (npm run build makes it). */
export const BIN = join(
  PACKAGE_ROOT,
  (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'ai-secret-mock'
  ]!,
)

export function requireBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`)
}

export interface Child {
  child: ChildProcess
  pid: number
  port: number
  url: string
  /** Everything written to stdout that is not a JSON log line (the banner). */
  banner(): string
  /** The JSON log lines written so far. */
  logLines(): string[]
  stderr(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

/**
 * Starts the bin on a free port and resolves once its banner names the address.
 * @param args CLI flags after `--port 0 --host 127.0.0.1`
 * @param env added to this process's environment (LOG_LEVEL defaults to warn)
 * @param timeoutMs how long to wait for the banner
 * @param nodeArgs options for node itself, before the bin (the soak's `--expose-gc --import probe`)
 */
export async function startCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  nodeArgs: string[] = [],
): Promise<Child> {
  requireBuilt()
  const child = spawn(process.execPath, [...nodeArgs, BIN, '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'rel-cwd-')),
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let banner = ''
  let partial = ''
  let stderr = ''
  const logs: string[] = []
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (d: string) => {
    const lines = (partial + d).split('\n')
    partial = lines.pop()!
    for (const l of lines)
      if (l.startsWith('{')) logs.push(l)
      else banner += `${l}\n`
  })
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${timeoutMs} ms: ${banner} ${stderr}`)),
      timeoutMs,
    )
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(banner)
      if (m) {
        clearTimeout(timer)
        child.stdout!.off('data', look)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', look)
    void exited.then((e) => {
      clearTimeout(timer)
      reject(new Error(`exited (${e.code ?? e.signal}) before listening: ${stderr}`))
    })
  })
  return {
    child,
    pid: child.pid!,
    port: Number(new URL(url).port),
    url,
    banner: () => banner,
    logLines: () => logs,
    stderr: () => stderr,
    exited,
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m === null ? NaN : Number(m[1]) * 1024
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export const RACE_KEY = 'sk-rel-race-owner-Vb71Qx'
export const RACE_SECRET = (i: number) => `sk-rel-race-value-${i}-Hq2w`

/** A seed file: one organization, one owner (and a member), n secrets named `${prefix}-<i>`. */
export function writeSeed(dir: string, n: number, prefix = 'race'): string {
  const file = join(dir, 'seed.json')
  writeFileSync(
    file,
    JSON.stringify({
      organizations: [{ name: 'race' }],
      users: [
        { email: 'owner@race.test', memberships: { race: 'owner' } },
        { email: 'member@race.test', memberships: { race: 'member' } },
      ],
      api_keys: [
        { key: RACE_KEY, user: 'owner@race.test' },
        { key: 'sk-rel-race-member-Pz44', user: 'member@race.test' },
      ],
      ai_secrets: Array.from({ length: n }, (_, i) => ({
        org: 'race',
        name: `${prefix}-${i}`,
        type: 'openai',
        secret: RACE_SECRET(i),
      })),
    }),
  )
  return file
}
