// `ai-secret-mock conformance`: runs the conformance scenario against a server and writes its
// transcript, or compares two transcripts. Loaded by src/cli.ts only for this subcommand.

import { readFileSync, writeFileSync } from 'node:fs'
import { BlockList, isIPv6 } from 'node:net'
import { parseArgs } from 'node:util'
import { compareTranscripts, formatComparison } from './compare.js'
import { runScenario } from './scenario.js'
import type { Transcript } from './transcript.js'

export const CONFORMANCE_USAGE = `Usage: ai-secret-mock conformance --base-url URL --api-key KEY [--org-name ORG] --out FILE [--allow-writes]
       ai-secret-mock conformance --compare A.json B.json

Runs a fixed scenario of about 40 requests against the AI-secrets resource of URL
(https://api.braintrust.dev, or a mock) and writes the answers, with ids, times, e-mails and
organization names replaced by placeholders, to FILE. It creates three secrets named
aismock-conformance-<random>-a/b/c with dummy values, and deletes them again: at the end,
when a step fails, and on Ctrl-C. It never reads or changes any other secret.

  --base-url URL    the API to check; one that is not on this machine (loopback: 127.0.0.0/8,
                    ::1, localhost) is refused without --allow-writes
  --api-key KEY     the API key (default: the BRAINTRUST_API_KEY environment variable, which
                    keeps it out of your shell history); never printed or written
  --org-name ORG    the organization to act in: needed when the key spans several
  --out FILE        where to write the transcript (JSON)
  --allow-writes    allow a base URL that is not loopback (writes to that account)
  --compare A B     compare two transcripts; exit 1 when they differ
  --help            this text

Exit codes: 0 done (or the transcripts agree); 1 the run failed, left something behind, or
the transcripts differ; 2 bad usage or a refused URL; 130 / 143 interrupted (SIGINT / SIGTERM),
after cleaning up.
`

/** Where the subcommand writes; the real process's streams by default. */
export interface ConformanceIo {
  env: Record<string, string | undefined>
  stdout: (s: string) => void
  stderr: (s: string) => void
  /** Ends the process at once (a second SIGINT or SIGTERM during the cleanup). Default `process.exit`. */
  exit?: (code: number) => void
}

class UsageError extends Error {}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/**
 * Whether a URL's host is this machine's loopback: `localhost`, 127.0.0.0/8 or ::1 (an
 * IPv4-mapped ::ffff:127.x.y.z too), as the WHATWG URL parser writes it. Names are not
 * resolved: any other name counts as somewhere else, whatever it resolves to.
 */
export function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.toLowerCase()
  if (host === 'localhost' || host === 'localhost.') return true
  if (host.startsWith('[')) {
    const address = host.slice(1, -1)
    return isIPv6(address) && LOOPBACK.check(address, 'ipv6')
  }
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) && LOOPBACK.check(host, 'ipv4')
}

/** Reads a transcript file; a file that is not one is a usage error naming it. */
function readTranscript(file: string): Transcript {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`)
  }
  const exchanges = (value as { exchanges?: unknown } | null)?.exchanges
  if (
    !Array.isArray(exchanges) ||
    !exchanges.every((e) => typeof (e as { name?: unknown } | null)?.name === 'string')
  ) {
    throw new UsageError(`${file}: not a conformance transcript (no "exchanges" list of named exchanges)`)
  }
  return value as Transcript
}

function compare(files: string[], io: ConformanceIo): number {
  if (files.length !== 2) throw new UsageError('--compare takes two transcript files')
  const [a, b] = files as [string, string]
  const result = compareTranscripts(readTranscript(a), readTranscript(b))
  io.stdout(formatComparison(result, a, b))
  return result.differences.length === 0 ? 0 : 1
}

/** Signal numbers, for the conventional exit code 128 + n. */
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const

async function run(values: Record<string, string | boolean | undefined>, io: ConformanceIo): Promise<number> {
  const baseUrl = values['base-url']
  const out = values.out
  const apiKey = (values['api-key'] as string | undefined) ?? io.env.BRAINTRUST_API_KEY
  if (typeof baseUrl !== 'string') throw new UsageError('--base-url is required')
  if (typeof out !== 'string') throw new UsageError('--out is required')
  if (apiKey === undefined || apiKey === '') throw new UsageError('--api-key (or BRAINTRUST_API_KEY) is required')
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new UsageError(`--base-url: not a URL: ${JSON.stringify(baseUrl)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--base-url: must be http or https, not ${url.protocol}`)
  if (url.username !== '' || url.password !== '')
    throw new UsageError('--base-url: must not hold credentials (give the key with --api-key)')
  if (url.search !== '' || url.hash !== '') throw new UsageError('--base-url: must not have a query or a fragment')
  if (!isLoopbackUrl(url) && values['allow-writes'] !== true) {
    throw new UsageError(
      `refusing to run against ${url.host} without --allow-writes: it is not this machine's loopback, and the run creates and deletes secrets there (named aismock-conformance-<random>-…)`,
    )
  }
  const orgName = values['org-name'] as string | undefined

  const controller = new AbortController()
  let interrupted: keyof typeof SIGNALS | null = null
  const onSignal = (signal: keyof typeof SIGNALS) => {
    if (interrupted !== null) {
      // A second signal while cleaning up: the user insists; say what may be left, and go.
      io.stderr(
        `${signal} again: stopping without finishing the cleanup; look for secrets named aismock-conformance-… on the account\n`,
      )
      return (io.exit ?? process.exit)(128 + SIGNALS[signal])
    }
    interrupted = signal
    io.stdout(`${signal}: stopping, and removing what this run created\n`)
    controller.abort(signal)
  }
  const onInt = () => onSignal('SIGINT')
  const onTerm = () => onSignal('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)

  const shown = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  io.stdout(`conformance run against ${shown}${orgName === undefined ? '' : ` (organization ${orgName})`}\n`)
  let result
  try {
    result = await runScenario({
      baseUrl: shown,
      apiKey,
      orgName,
      signal: controller.signal,
      log: (line) => io.stdout(`${line}\n`),
    })
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }
  const { transcript, created, removed, left } = result
  writeFileSync(out, `${JSON.stringify(transcript, null, 2)}\n`)

  const recorded = transcript.exchanges.length
  io.stdout(
    `${recorded} exchanges recorded in ${out}${transcript.aborted === undefined ? '' : ` (incomplete: ${transcript.aborted})`}\n`,
  )
  io.stdout(
    `created ${created.length} secret${created.length === 1 ? '' : 's'} (${created.map((c) => c.name).join(', ') || 'none'}), removed ${removed.length}${left.length === 0 ? '; nothing left behind' : ''}\n`,
  )
  for (const l of left) io.stderr(`LEFT BEHIND: ${l.name} ${l.id}: ${l.reason}\n`)
  if (interrupted !== null) return 128 + SIGNALS[interrupted]
  if (transcript.aborted !== undefined) io.stderr(`the run stopped early: ${transcript.aborted}\n`)
  return transcript.aborted === undefined && left.length === 0 ? 0 : 1
}

/**
 * The `conformance` subcommand: `argv` is what follows the word `conformance`. Resolves to
 * the exit code; writes to `io`. Usage errors (and a refused URL) give 2 and one line.
 */
export async function conformance(
  argv: string[],
  io: ConformanceIo = {
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  },
): Promise<number> {
  try {
    let parsed
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          'base-url': { type: 'string' },
          'api-key': { type: 'string' },
          'org-name': { type: 'string' },
          out: { type: 'string' },
          'allow-writes': { type: 'boolean' },
          compare: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const { values, positionals } = parsed
    if (values.help === true) {
      io.stdout(CONFORMANCE_USAGE)
      return 0
    }
    if (values.compare === true) return compare(positionals, io)
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    return await run(values, io)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr(`ai-secret-mock conformance: ${err.message}\n`)
    return 2
  }
}
