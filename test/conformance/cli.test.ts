import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { conformance, isLoopbackUrl } from '../../src/conformance/cli.js'
import { compareTranscripts } from '../../src/conformance/compare.js'
import { DUMMY_SECRETS } from '../../src/conformance/scenario.js'
import type { Transcript } from '../../src/conformance/transcript.js'
import { USAGE } from '../../src/config.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { startMockServer, type MockServer } from '../../src/start-mock-server.js'
import { MOCK_RUN, MOCK_TRANSCRIPT } from '../../scripts/conformance-record.js'
import { SOURCE_CLI } from '../support/app.js'
import { startProxy } from '../support/conformance-proxy.js'

// The subcommand in this process (usage, the URL check), and as the package's bin runs it:
// from its sources (SOURCE_CLI, whose coverage counts for src/) and the bundled dist/cli.mjs
// (npm test builds first), over real HTTP, interrupted by real signals.
const CLI = SOURCE_CLI
const BUNDLED_BIN = [join(PACKAGE_ROOT, 'dist', 'cli.mjs')]
const committed = JSON.parse(readFileSync(MOCK_TRANSCRIPT, 'utf8')) as Transcript
const tmp = () => mkdtempSync(join(tmpdir(), 'conformance-'))

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await conformance(args, { env, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) })
  return { code, stdout, stderr }
}

function spawnCli(bin: string[], args: string[]) {
  const child = spawn(process.execPath, [...bin, 'conformance', ...args], {
    cwd: tmp(),
    env: { ...process.env, BRAINTRUST_API_KEY: MOCK_RUN.apiKey },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, out: () => stdout, err: () => stderr }
}

async function leftovers(mock: MockServer): Promise<string[]> {
  const state = (await (await fetch(`${mock.url}/_mock/state`)).json()) as { ai_secrets: { name: string }[] }
  return state.ai_secrets.map((s) => s.name).filter((n) => n.startsWith('aismock-conformance-'))
}

t.test('loopback is 127.0.0.0/8, ::1 and localhost, as the URL parser writes them; nothing is resolved', async (t) => {
  for (const u of [
    'http://localhost:8000',
    'http://LOCALHOST.',
    'http://127.0.0.1',
    'http://127.8.9.10:1',
    'http://127.1',
    'http://2130706433',
    'http://[::1]:8000',
    'http://[0:0:0:0:0:0:0:1]',
    'http://[::ffff:127.0.0.1]',
  ]) {
    t.ok(isLoopbackUrl(new URL(u)), `${u} is loopback`)
  }
  for (const u of [
    'https://api.braintrust.dev',
    'http://0.0.0.0:8000',
    'http://192.0.2.2',
    'http://10.0.0.1',
    'http://[fd00::2]',
    'http://[::ffff:10.0.0.1]',
    'http://localhost.example',
    'http://127.0.0.1.nip.io',
    'http://my-localhost',
    'http://[::]',
  ]) {
    t.notOk(isLoopbackUrl(new URL(u)), `${u} is not`)
  }
})

t.test('usage errors: one line, exit 2, nothing sent; --help', async (t) => {
  const help = await cli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: ai-secret-mock conformance --base-url URL/)
  t.match(USAGE, '\n  ai-secret-mock conformance --help\n', "the mock's own --help points to it")
  const out = join(tmp(), 't.json')
  for (const [args, env, message] of [
    [['--out', out], { BRAINTRUST_API_KEY: 'k' }, '--base-url is required'],
    [['--base-url', 'http://127.0.0.1:9'], { BRAINTRUST_API_KEY: 'k' }, '--out is required'],
    [['--base-url', 'http://127.0.0.1:9', '--out', out], {}, '--api-key (or BRAINTRUST_API_KEY) is required'],
    [['--base-url', 'nowhere', '--out', out, '--api-key', 'k'], {}, '--base-url: not a URL: "nowhere"'],
    [
      ['--base-url', 'ftp://127.0.0.1', '--out', out, '--api-key', 'k'],
      {},
      '--base-url: must be http or https, not ftp:',
    ],
    [
      ['--base-url', 'http://me:pw@127.0.0.1', '--out', out, '--api-key', 'k'],
      {},
      '--base-url: must not hold credentials (give the key with --api-key)',
    ],
    [
      ['--base-url', 'http://127.0.0.1/?x=1', '--out', out, '--api-key', 'k'],
      {},
      '--base-url: must not have a query or a fragment',
    ],
    [['--base-url', 'http://127.0.0.1', '--out', out, '--api-key', 'k', 'extra'], {}, 'unexpected argument "extra"'],
    [['--base-url', 'http://127.0.0.1', '--out', out, '--api-key', 'k', '--verbose'], {}, "Unknown option '--verbose'"],
  ] as const) {
    const r = await cli([...args], { ...env })
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, `ai-secret-mock conformance: ${message}`)
    t.equal(r.stdout, '')
  }
})

t.test(
  'an address that is not loopback is refused without --allow-writes, before any request; with it the run goes',
  async (t) => {
    const mock = await startMockServer({ logger: false, host: '0.0.0.0' })
    t.teardown(() => mock.close())
    const port = new URL(mock.url).port
    // This machine's own addresses that are not loopback, and 0.0.0.0 (which reaches it too).
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal)
      .map((a) => (a!.family === 'IPv6' ? `[${a!.address.split('%')[0]}]` : a!.address))
    const hosts = ['0.0.0.0', ...addresses]
    const out = join(tmp(), 't.json')
    for (const host of hosts) {
      const r = await cli(['--base-url', `http://${host}:${port}`, '--out', out], {
        BRAINTRUST_API_KEY: MOCK_RUN.apiKey,
      })
      t.equal(r.code, 2, `${host}: refused`)
      t.equal(
        r.stderr,
        `ai-secret-mock conformance: refusing to run against ${host}:${port} without --allow-writes: it is not this machine's loopback, and the run creates and deletes secrets there (named aismock-conformance-<random>-…)\n`,
      )
    }
    t.same(await mock.requests(), [], 'nothing was sent')

    const reachable = hosts.find((h) => !h.startsWith('[')) ?? '0.0.0.0'
    const r = await cli(
      ['--base-url', `http://${reachable}:${port}`, '--org-name', 'acme', '--out', out, '--allow-writes'],
      { BRAINTRUST_API_KEY: MOCK_RUN.apiKey },
    )
    t.equal(r.code, 0, r.stderr)
    t.same(
      compareTranscripts(committed, JSON.parse(readFileSync(out, 'utf8')) as Transcript).differences,
      [],
      'the same answers as on loopback',
    )
    t.same(await leftovers(mock), [])
  },
)

t.test('the bundled bin: a whole run against the mock, then --compare with mock.json', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  const out = join(tmp(), 'run.json')
  const run = spawnCli(BUNDLED_BIN, ['--base-url', mock.url, '--org-name', 'acme', '--out', out])
  t.equal(await run.exited, 0, run.err())
  t.match(run.out(), /^conformance run against http:\/\/127\.0\.0\.1:\d+ \(organization acme\)\n/)
  t.match(
    run.out(),
    /\n38 exchanges recorded in .*run\.json\ncreated 3 secrets \(aismock-conformance-[a-z0-9]{8}-a, aismock-conformance-[a-z0-9]{8}-b, aismock-conformance-[a-z0-9]{8}-c\), removed 3; nothing left behind\n$/,
  )
  t.equal(run.err(), '')
  for (const never of [MOCK_RUN.apiKey, ...DUMMY_SECRETS])
    t.notOk(
      run.out().includes(never) || readFileSync(out, 'utf8').includes(never),
      `${never} is neither printed nor written`,
    )
  const compare = spawnCli(BUNDLED_BIN, ['--compare', out, MOCK_TRANSCRIPT])
  t.equal(await compare.exited, 0, compare.out())
  t.match(compare.out(), /agree on all 38 exchanges/)
  t.same(await leftovers(mock), [])
})

t.test(
  'SIGINT while a create has been done but not answered: the cleanup finds it by name; nothing is left; exit 130',
  async (t) => {
    const mock = await startMockServer({ logger: false })
    t.teardown(() => mock.close())
    let held: () => void
    const holding = new Promise<void>((resolve) => (held = resolve))
    let holds = 0
    // The proxy passes the PUT that creates c on to the mock, and keeps its answer.
    const proxy = await startProxy(mock.url, (a) => {
      if (a.method === 'PUT' && holds++ === 0) {
        held()
        return 'hold'
      }
      return a
    })
    t.teardown(() => proxy.close())
    const out = join(tmp(), 'run.json')
    const run = spawnCli(CLI, ['--base-url', proxy.url, '--org-name', 'acme', '--out', out])
    await holding
    t.same(
      (await leftovers(mock)).map((n) => n.slice(-2)),
      ['-a', '-b', '-c'],
      'c exists, though the run never heard of it',
    )
    run.child.kill('SIGINT')
    t.equal(await run.exited, 130)
    t.same(await leftovers(mock), [], 'nothing of the run is left on the server')
    const prefix = /created {2}(aismock-conformance-[a-z0-9]{8})-a/.exec(run.out())![1]!
    t.match(run.out(), 'SIGINT: stopping, and removing what this run created\n')
    for (const l of ['a', 'b', 'c'])
      t.match(run.out(), new RegExp(`removed {2}${prefix}-${l} `), `says it removed ${l}`)
    t.match(run.out(), /created 3 secrets \(.*\), removed 3; nothing left behind\n$/)
    const transcript = JSON.parse(readFileSync(out, 'utf8')) as Transcript
    t.equal(transcript.aborted, 'interrupted (SIGINT)')
    t.same(
      transcript.exchanges.map((e) => e.name),
      ['cors-preflight', 'cors-preflight-by-id', 'no-key', 'wrong-key', 'create', 'create-existing', 'create-b'],
    )
    for (const never of [MOCK_RUN.apiKey, ...DUMMY_SECRETS])
      t.notOk(run.out().includes(never) || run.err().includes(never), `${never} is never printed`)
  },
)

t.test('SIGTERM while a request is delayed, through the bundled bin: nothing is left; exit 143', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  await mock.fault({ method: 'PATCH', delay_ms: 60_000, times: 1 })
  const run = spawnCli(BUNDLED_BIN, ['--base-url', mock.url, '--org-name', 'acme', '--out', join(tmp(), 'run.json')])
  // Waits for the PATCH to arrive at the mock (it then waits there a minute).
  while (!(await mock.requests({ method: 'PATCH' })).some((r) => r.status === null))
    await new Promise((r) => setTimeout(r, 50))
  run.child.kill('SIGTERM')
  t.equal(await run.exited, 143)
  t.same(await leftovers(mock), [])
  t.match(run.out(), /SIGTERM: stopping[\s\S]*removed 3; nothing left behind\n$/)
})

t.test('a second signal during the cleanup stops at once, and says what to look for', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  let signalled: (what: string) => void
  let next = new Promise<string>((resolve) => (signalled = resolve))
  // Holds the first PUT (the run is then interrupted), then the cleanup's first delete.
  let putHeld = false
  const proxy = await startProxy(mock.url, (a) => {
    const hold = (a.method === 'PUT' && !putHeld) || (a.method === 'DELETE' && a.url.startsWith('/v1/ai_secret/'))
    if (!hold) return a
    if (a.method === 'PUT') putHeld = true
    signalled(a.method)
    return 'hold'
  })
  t.teardown(() => proxy.close())
  const run = spawnCli(CLI, ['--base-url', proxy.url, '--org-name', 'acme', '--out', join(tmp(), 'run.json')])
  t.equal(await next, 'PUT')
  next = new Promise<string>((resolve) => (signalled = resolve))
  run.child.kill('SIGINT')
  t.equal(await next, 'DELETE', 'the cleanup began')
  run.child.kill('SIGINT')
  t.equal(await run.exited, 130)
  t.match(
    run.err(),
    'SIGINT again: stopping without finishing the cleanup; look for secrets named aismock-conformance-… on the ' +
      'account\n',
  )
  // The held delete reached the mock (the proxy holds answers, not requests): two are left.
  t.equal((await leftovers(mock)).length, 2, 'the run left secrets behind, as it said')
})
