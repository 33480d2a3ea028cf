import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { conformance } from '../../src/conformance/cli.js'
import { compareTranscripts, excerpts, formatComparison } from '../../src/conformance/compare.js'
import { runScenario } from '../../src/conformance/scenario.js'
import type { Exchange, Transcript } from '../../src/conformance/transcript.js'
import { startMockServer } from '../../src/start-mock-server.js'
import { MOCK_RUN, MOCK_TRANSCRIPT } from '../../scripts/conformance-record.js'
import { startProxy } from '../support/conformance-proxy.js'

const committed = JSON.parse(readFileSync(MOCK_TRANSCRIPT, 'utf8')) as Transcript
const copy = (): Transcript => JSON.parse(JSON.stringify(committed)) as Transcript
const exchange = (tr: Transcript, name: string) => tr.exchanges.find((e) => e.name === name) as Exchange

/** Runs the subcommand in this process; resolves to its exit code and what it wrote. */
async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await conformance(args, { env, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) })
  return { code, stdout, stderr }
}

t.test('a server that answers one exchange otherwise: the comparison names that exchange, and only it', async (t) => {
  const mock = await startMockServer({ logger: false })
  t.teardown(() => mock.close())
  // A proxy in front of the mock turns the second delete by id of one secret (a 400) into a 404.
  const proxy = await startProxy(mock.url, (a) => {
    if (a.method === 'DELETE' && a.url.startsWith('/v1/ai_secret/') && a.status === 400) {
      return {
        ...a,
        status: 404,
        headers: { ...a.headers, 'content-type': 'text/plain; charset=utf-8' },
        body: 'Not found',
      }
    }
    return a
  })
  t.teardown(() => proxy.close())

  const { transcript } = await runScenario({ baseUrl: proxy.url, ...MOCK_RUN })
  const result = compareTranscripts(committed, transcript)
  t.same(
    result.differences.map((d) => d.name),
    ['delete-id-again'],
  )
  t.same(result.differences[0]!.lines, [
    'status: 400 → 404',
    'body:',
    '    a: Missing delete access to ai_secret id <c.id>, or the ai_secret does not exist [user_email=<user-1.email>] ' +
      '[timestamp=<timestamp>] [request_id=<request-id>]',
    '    b: Not found',
  ])

  const dir = mkdtempSync(join(tmpdir(), 'conformance-'))
  const file = join(dir, 'proxy.json')
  writeFileSync(file, JSON.stringify(transcript))
  const r = await cli(['--compare', MOCK_TRANSCRIPT, file])
  t.equal(r.code, 1, 'exit code 1 when they differ')
  t.equal(r.stderr, '')
  t.equal(
    r.stdout,
    `${MOCK_TRANSCRIPT} (a) and ${file} (b) differ in 1 of 38 exchanges (a → b):\n\n` +
      'delete-id-again  DELETE /v1/ai_secret/<c.id>\n' +
      '  status: 400 → 404\n  body:\n' +
      '      a: Missing delete access to ai_secret id <c.id>, or the ai_secret does not exist [user_email=<user-1.email>] [timestamp=<timestamp>] [request_id=<request-id>]\n' +
      '      b: Not found\n',
  )
  const same = await cli(['--compare', MOCK_TRANSCRIPT, MOCK_TRANSCRIPT])
  t.same(same, {
    code: 0,
    stdout: `${MOCK_TRANSCRIPT} and ${MOCK_TRANSCRIPT} agree on all 38 exchanges.\n`,
    stderr: '',
  })
})

t.test('each kind of difference, one readable line each', async (t) => {
  const b = copy()
  const create = exchange(b, 'create-existing')
  delete create.headers['x-bt-found-existing']
  ;(create.body as { metadata: { team: string } }).metadata.team = 'changed'
  ;(create.body as Record<string, unknown>).extra = [1, 2]
  const get = exchange(b, 'get')
  get.content_type = 'application/json'
  delete (get.body as Record<string, unknown>).preview_secret
  exchange(b, 'wrong-key').body = 'Unauthorized'
  exchange(b, 'get-unknown-id').body = 'not the JSON it was'
  exchange(b, 'get-not-a-uuid').body = '[\n  "other"\n]'
  b.exchanges = b.exchanges.filter((e) => e.name !== 'no-key')
  b.exchanges[b.exchanges.findIndex((e) => e.name === 'list-org-header')] = {
    name: 'list-org-header',
    skipped: 'needs --org-name',
  }
  b.exchanges.push({ name: 'brand-new', skipped: 'why not' })
  b.run.key_spans_several_organizations = false
  b.scenario = 'ai_secret/2'
  b.aborted = 'interrupted'

  const c = compareTranscripts(committed, b)
  const lines = Object.fromEntries(c.differences.map((d) => [d.name, d.lines]))
  t.same(lines['(run)'], [
    'scenario: "ai_secret/1" → "ai_secret/2" (different scenarios: exchanges may not match)',
    'run.key_spans_several_organizations: true → false',
    'aborted: (absent) → "interrupted"',
  ])
  t.same(lines['create-existing'], [
    'headers["x-bt-found-existing"]: "true" → (absent)',
    'body.metadata.team: "conformance" → "changed"',
    'body.extra: (absent) → [1,2]',
  ])
  t.same(lines.get, [
    'content_type: "application/json; charset=utf-8" → "application/json"',
    'body.preview_secret: "sk-...001" → (absent)',
  ])
  t.same(lines['wrong-key'], [
    'body: "Invalid API key [timestamp=<timestamp>] [request_id=<request-id>]" → "Unauthorized"',
  ])
  t.match(lines['get-unknown-id'], ['body:', '    a: {', /^ {7} {2}"Code": "ForbiddenError",$/])
  t.same(lines['get-unknown-id']!.slice(-1), ['    b: not the JSON it was'])
  t.match(
    lines['get-not-a-uuid']!.join('\n'),
    /^body:\n {4}a: \[\n {9}\{\n[\s\S]*\] \[user_email=[\s\S]*\n {4}b: \[\n {9}"other"\n {7}\]$/,
  )
  t.same(lines['no-key'], ['only in a'])
  t.same(lines['brand-new'], ['only in b'])
  t.same(lines['list-org-header'], ['run in a, skipped in b: needs --org-name'])
  t.equal(c.exchanges, 39)
  const text = formatComparison(c, 'a.json', 'b.json')
  t.match(
    text,
    /^a\.json \(a\) and b\.json \(b\) differ in 8 of 39 exchanges, and in how the runs were made \(a → b\):\n/,
  )
  t.match(text, '\nbrand-new  (skipped: why not)\n  only in b\n')

  const both = copy()
  both.exchanges[0] = { name: both.exchanges[0]!.name, skipped: 'one reason' }
  const other = copy()
  other.exchanges[0] = { name: other.exchanges[0]!.name, skipped: 'another' }
  t.same(compareTranscripts(both, other).differences[0]!.lines, ['skipped: "one reason" → "another"'])
  t.same(compareTranscripts(both, both).differences, [])
  const textA = copy()
  exchange(textA, 'wrong-key').body = { json: true }
  t.same(compareTranscripts(copy(), textA).differences[0]!.lines, [
    'body:',
    '    a: Invalid API key [timestamp=<timestamp>] [request_id=<request-id>]',
    '    b: {',
    '         "json": true',
    '       }',
  ])
  const long = copy()
  exchange(long, 'wrong-key').body = 'x'.repeat(300)
  t.same(compareTranscripts(copy(), long).differences[0]!.lines, [
    'body:',
    '    a: Invalid API key [timestamp=<timestamp>] [request_id=<request-id>]',
    `    b: ${'x'.repeat(300)}`,
  ])
  const value = copy()
  ;(exchange(value, 'get').body as Record<string, unknown>).metadata = { big: 'y'.repeat(300) }
  t.match(
    compareTranscripts(copy(), value).differences[0]!.lines.join('\n'),
    /^body\.metadata\.big: \(absent\) → "y{190,}\.\.\.$/m,
  )
  const renamed = copy()
  ;(exchange(renamed, 'get').request as { headers?: Record<string, string> }).headers = { 'x-odd header': 'v' }
  t.same(compareTranscripts(copy(), renamed).differences[0]!.lines, [
    'request.headers: (absent) → {"x-odd header":"v"}',
  ])
})

t.test('--compare refuses what is not two transcripts, with one line and exit code 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'))
  const notJson = join(dir, 'not.json')
  writeFileSync(notJson, '{')
  const notTranscript = join(dir, 'other.json')
  writeFileSync(notTranscript, JSON.stringify({ exchanges: [{ status: 200 }] }))
  for (const [args, message] of [
    [['--compare', MOCK_TRANSCRIPT], /^ai-secret-mock conformance: --compare takes two transcript files\n$/],
    [['--compare', MOCK_TRANSCRIPT, join(dir, 'missing.json')], /: ENOENT: no such file/],
    [['--compare', MOCK_TRANSCRIPT, notJson], /not\.json: .*JSON/],
    [
      ['--compare', notTranscript, MOCK_TRANSCRIPT],
      /other\.json: not a conformance transcript \(no "exchanges" list of named exchanges\)\n$/,
    ],
  ] as const) {
    const r = await cli([...args])
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, message)
    t.equal(r.stdout, '')
  }
})

t.test('long texts that part somewhere: where they part, with some context, cut at spaces', async (t) => {
  const head = 'Missing delete access to ai_secret id <c.id>, or the ai_secret does not exist'
  t.same(
    excerpts(
      `${head} [user_email=<e>] [timestamp=<t>] [request_id=<r>]`,
      `${head} [user_email=<e>] [user_org=<o>] [timestamp=<t>] [request_id=<r>]`,
    ),
    [
      '…does not exist [user_email=<e>] [timestamp=<t>] [request_id=<r>]',
      '…does not exist [user_email=<e>] [user_org=<o>] [timestamp=<t>] [request_id=<r>]',
    ],
  )
  const tail = ' and then a long tail of text that both share and that is not worth showing twice'
  t.same(excerpts(`${head} A${tail}`, `${head} B${tail}`), [
    '…the ai_secret does not exist A and then a long tail of text that…',
    '…the ai_secret does not exist B and then a long tail of text that…',
  ])
  t.same(excerpts('short a', 'short b'), ['short a', 'short b'], 'nothing worth cutting')
  t.same(excerpts('same', 'same'), ['same', 'same'])
})
