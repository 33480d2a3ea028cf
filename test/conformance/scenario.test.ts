import { readFileSync } from 'node:fs'
import t from 'tap'
import { compareTranscripts, formatComparison } from '../../src/conformance/compare.js'
import { DUMMY_SECRETS, runScenario } from '../../src/conformance/scenario.js'
import type { Exchange, Transcript } from '../../src/conformance/transcript.js'
import { startMockServer } from '../../src/start-mock-server.js'
import { MOCK_RUN, MOCK_TRANSCRIPT, recordMock } from '../../scripts/conformance-record.js'
import { DEMO_SECRETS, KEYS } from '../support/app.js'

const committed = JSON.parse(readFileSync(MOCK_TRANSCRIPT, 'utf8')) as Transcript

t.test(
  'the scenario against the mock answers as openapi/conformance/mock.json records (npm run conformance:record)',
  async (t) => {
    const { transcript } = await recordMock()
    const result = compareTranscripts(committed, transcript)
    t.same(
      result.differences,
      [],
      `a changed answer must be a deliberate change of mock.json:\n${formatComparison(result, 'mock.json', 'this run')}`,
    )
    t.equal(result.exchanges, 38)
    t.equal(transcript.exchanges.length, 38, 'every exchange ran: the key spans two organizations and acme is named')
    t.same(transcript.run, { org_name_given: true, key_spans_several_organizations: true })
    t.notOk('aborted' in transcript)
  },
)

t.test('it covers the 7 operations, both preflights, and the error paths of the issue', async (t) => {
  const ops = new Set(
    committed.exchanges
      .filter((e): e is Exchange => 'method' in e)
      .map((e) => `${e.method} ${e.path.split('?', 1)[0]!.replace(/<[^>]+>$|not-a-uuid$/, '{id}')}`),
  )
  t.same([...ops].sort(), [
    'DELETE /v1/ai_secret',
    'DELETE /v1/ai_secret/{id}',
    'GET /v1/ai_secret',
    'GET /v1/ai_secret/{id}',
    'OPTIONS /v1/ai_secret',
    'OPTIONS /v1/ai_secret/{id}',
    'PATCH /v1/ai_secret/{id}',
    'POST /v1/ai_secret',
    'PUT /v1/ai_secret',
  ])
  const byName = new Map(committed.exchanges.map((e) => [e.name, e as Exchange]))
  t.equal(byName.get('create-existing')!.headers['x-bt-found-existing'], 'true', 'found-existing')
  t.match(
    byName.get('patch-metadata')!.body,
    { metadata: { team: 'conformance', nested: { first: 1, second: 2 }, added: true } },
    'metadata merge',
  )
  t.equal(byName.get('wrong-key')!.status, 401)
  t.equal(byName.get('list-foreign-org')!.status, 403, 'an org the key does not span')
  t.match(
    byName.get('delete-name-without-org-name')!.body,
    /^Your API key belongs to multiple organizations \(<org-1>, <org-2>\)/,
    'the ambiguous write, other org names hidden too',
  )
  for (const e of committed.exchanges as Exchange[]) {
    if (e.method === 'GET' && e.path.startsWith('/v1/ai_secret?'))
      t.match(e.path, /[?&](ids|ai_secret_name)=/, `${e.name}: the list is filtered to the run's own secrets`)
  }
})

t.test(
  'two runs against one server compare equal; a key in one organization without --org-name runs too',
  async (t) => {
    const mock = await startMockServer({ logger: false })
    t.teardown(() => mock.close())
    const first = await recordMock(MOCK_RUN, mock)
    const second = await recordMock(MOCK_RUN, mock)
    t.not(first.prefix, second.prefix, 'each run has its own random prefix')
    t.same(compareTranscripts(first.transcript, second.transcript).differences, [])

    const single = await recordMock({ apiKey: KEYS.owner, orgName: undefined }, mock)
    t.same(single.transcript.run, { org_name_given: false, key_spans_several_organizations: false })
    t.same(
      single.transcript.exchanges.filter((e) => 'skipped' in e),
      [
        { name: 'list-org-name', skipped: 'needs --org-name' },
        { name: 'list-org-header', skipped: 'needs --org-name' },
      ],
    )
    const bare = single.transcript.exchanges.find((e) => e.name === 'delete-name-without-org-name') as Exchange
    const named = single.transcript.exchanges.find((e) => e.name === 'delete-name-again') as Exchange
    t.same(bare.body, named.body, 'one organization: the delete without org_name answers as the one with it')
  },
)

t.test(
  'a key in several organizations without --org-name stops at the create, says why, and leaves nothing',
  async (t) => {
    const mock = await startMockServer({ logger: false })
    t.teardown(() => mock.close())
    const lines: string[] = []
    const result = await runScenario({ baseUrl: `${mock.url}/`, apiKey: KEYS.multi, log: (l) => lines.push(l) })
    t.match(
      result.transcript.aborted,
      /^create answered 400, not a record: Your API key belongs to multiple organizations .*name one with --org-name\)$/,
    )
    t.equal(result.transcript.exchanges.length, 5)
    t.same(result.created, [])
    t.same(result.left, [])
    t.equal(result.transcript.run.key_spans_several_organizations, null)
  },
)

t.test(
  'safe on an account: only its own secrets, nothing else read or changed, nothing left, no key or value in the ' +
    'transcript',
  async (t) => {
    const mock = await startMockServer({ logger: false })
    t.teardown(() => mock.close())
    const state = async () =>
      (await (await fetch(`${mock.url}/_mock/state`)).json()) as {
        ai_secrets: { id: string; name: string; updated_at: string }[]
      }
    const before = await state()
    const lines: string[] = []
    const result = await runScenario({ baseUrl: mock.url, ...MOCK_RUN, log: (l) => lines.push(l) })

    t.same(
      (await state()).ai_secrets,
      before.ai_secrets,
      'the demo secrets are as they were, and none of the run is left',
    )
    t.same(
      result.created.map((c) => c.name),
      ['a', 'b', 'c'].map((l) => `${result.prefix}-${l}`),
    )
    t.same(
      result.removed.map((c) => c.id).sort(),
      result.created.map((c) => c.id).sort(),
      'what it created, it removed',
    )
    t.same(result.left, [])
    t.ok(lines.includes(`created  ${result.prefix}-a  ${result.created[0]!.id}`), 'says what it created')
    t.ok(
      lines.some((l) => l.startsWith(`removed  ${result.prefix}-a`)),
      'and what it removed',
    )

    const ours = new Set([...result.created.map((c) => c.id)])
    for (const r of await mock.requests()) {
      const id = /^\/v1\/ai_secret\/(.+)$/.exec(r.path)?.[1]
      if (id !== undefined && id !== 'not-a-uuid' && r.method !== 'OPTIONS')
        t.ok(
          ours.has(id) || !before.ai_secrets.some((s) => s.id === id),
          `${r.method} ${r.path}: only the run's ids or unknown ones`,
        )
      if (r.method === 'GET' && id === undefined)
        t.ok(
          'ids' in r.query || 'ai_secret_name' in r.query,
          `${r.path} ${JSON.stringify(r.query)}: filtered to the run's secrets`,
        )
      const body = r.body as { name?: unknown } | null
      if (typeof body?.name === 'string')
        t.ok(body.name.startsWith(result.prefix), `${r.method} ${r.path}: names only the run's secrets`)
    }

    const transcript = JSON.stringify(result.transcript)
    for (const never of [
      MOCK_RUN.apiKey,
      ...DUMMY_SECRETS,
      ...DEMO_SECRETS,
      'OPENAI_API_KEY',
      result.prefix,
      'bob@multi.test',
      'acme',
      'globex',
    ]) {
      t.notOk(transcript.includes(never), `the transcript does not hold ${never}`)
    }
    const printed = lines.join('\n')
    for (const never of [MOCK_RUN.apiKey, ...DUMMY_SECRETS, ...DEMO_SECRETS])
      t.notOk(printed.includes(never), `${never} is never printed`)
  },
)
