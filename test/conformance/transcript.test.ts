import t from 'tap'
import { Normaliser, isJsonType, type RawExchange } from '../../src/conformance/transcript.js'

const TOKEN = 'k3j2h1x9'
const ID_A = '0b5c6f0e-1d2e-4f3a-8b4c-5d6e7f8a9b0c'
const ORG_ID = '11111111-2222-4333-8444-555555555555'
const USER_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa'

function raw(over: Partial<RawExchange> = {}): RawExchange {
  return {
    name: 'x',
    method: 'GET',
    path: '/v1/ai_secret',
    request: { auth: 'key' },
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': 'iad1::abc',
      'x-bt-internal-trace-id': 'iad1::abc',
    },
    text: '',
    ...over,
  }
}

t.test('ids by what they identify, the same id always the same placeholder, across exchanges and paths', async (t) => {
  const n = new Normaliser({ runToken: TOKEN, redact: [] })
  const record = {
    id: ID_A,
    org_id: ORG_ID,
    name: `aismock-conformance-${TOKEN}-a`,
    created: '2026-05-01T10:00:00.123Z',
    updated_at: '2026-05-01T10:00:00Z',
    secret_updated_by_user_id: USER_ID,
    other: 'f0000000-0000-4000-8000-000000000000',
  }
  const created = n.exchange(raw({ method: 'POST', text: JSON.stringify(record) }))
  t.same(created.body, {
    id: '<a.id>',
    org_id: '<org-1.id>',
    name: 'aismock-conformance-<run>-a',
    created: '<date-time>',
    updated_at: '<date-time>',
    secret_updated_by_user_id: '<user-1.id>',
    other: '<id-1>',
  })
  const got = n.exchange(raw({ path: `/v1/ai_secret/${ID_A.toUpperCase()}?ids=${ID_A},${ORG_ID}` }))
  t.equal(got.path, '/v1/ai_secret/<a.id>?ids=<a.id>,<org-1.id>')
  n.label(ID_A, '<ignored: it has one>')
  n.label('f1000000-0000-4000-8000-000000000000', '<unknown-id>')
  t.equal(
    n.text(`${ID_A} f1000000-0000-4000-8000-000000000000 f2000000-0000-4000-8000-000000000000`),
    '<a.id> <unknown-id> <id-2>',
  )
})

t.test(
  'text errors: the bracketed context, e-mails and organization names; request ids by whose they are',
  async (t) => {
    const n = new Normaliser({ runToken: TOKEN, redact: [], orgName: 'acme' })
    const text =
      `Missing delete access to ai_secret aismock-conformance-${TOKEN}-b, or the ai_secret does not exist ` +
      '[user_email=bob@multi.test] [user_org=globex] [timestamp=1762959312.341] [request_id=iad1::abc]'
    const ex = n.exchange(
      raw({ status: 400, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-request-id': 'iad1::abc' }, text }),
    )
    t.equal(
      ex.body,
      'Missing delete access to ai_secret aismock-conformance-<run>-b, or the ai_secret does not exist ' +
        '[user_email=<user-1.email>] [user_org=<org-2>] [timestamp=<timestamp>] [request_id=<request-id>]',
    )
    t.same(ex.headers, { 'x-request-id': true })
    t.equal(
      n.text('[request_id=iad1::zzz] [user_org=acme] owned by bob@multi.test and carol@x.example.com'),
      '[request_id=<other-request-id>] [user_org=<org-1>] owned by <user-1.email> and <user-2.email>',
    )
    // A list in a message that holds a known organization name: its other items are organization names too.
    t.equal(
      n.text('Your API key belongs to multiple organizations (acme, globex, Initech Labs): specify org_name'),
      'Your API key belongs to multiple organizations (<org-1>, <org-2>, <org-3>): specify org_name',
    )
    t.equal(
      n.text('["Initech Labs","umbrella"]'),
      '["<org-3>","umbrella"]',
      'a list with no known name teaches nothing',
    )
    t.equal(
      n.text('acmeish acme-2 acme.io an acme. globex'),
      'acmeish acme-2 acme.io an <org-1>. <org-2>',
      'whole words only',
    )
    t.equal(n.text('one, two'), 'one, two')
  },
)

t.test('a 403 JSON body, the headers that matter, the request as sent, and what is never written', async (t) => {
  const n = new Normaliser({
    runToken: TOKEN,
    redact: [
      ['sk-real-key-123', '<api-key>'],
      ['sk-dummy-1', '<dummy-1>'],
    ],
    orgName: 'acme',
  })
  const body = {
    Code: 'ForbiddenError',
    Message: 'Missing read access to organization acme [user_email=a@b.test] [timestamp=1.0]',
    InternalTraceId: 'iad1::abc',
    Path: '/v1/ai_secret',
    Service: 'api',
  }
  const ex = n.exchange(
    raw({
      method: 'POST',
      status: 403,
      request: {
        auth: 'key',
        headers: { 'x-bt-org-name': 'acme' },
        body: { name: `aismock-conformance-${TOKEN}-a`, secret: 'sk-dummy-1', org_name: 'acme' },
      },
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-request-id': 'iad1::abc',
        'retry-after': '3',
        'x-bt-found-existing': 'true',
        'access-control-expose-headers': 'x-bt-cursor',
        'access-control-allow-origin': '*',
        'set-cookie': 'session=sk-real-key-123',
        date: 'Mon, 01 Jan 2026 00:00:00 GMT',
      },
      text: JSON.stringify(body),
    }),
  )
  t.same(ex, {
    name: 'x',
    method: 'POST',
    path: '/v1/ai_secret',
    request: {
      auth: 'key',
      headers: { 'x-bt-org-name': '<org-1>' },
      body: { name: 'aismock-conformance-<run>-a', secret: '<dummy-1>', org_name: '<org-1>' },
    },
    status: 403,
    content_type: 'application/json; charset=utf-8',
    headers: {
      'x-request-id': true,
      'retry-after': true,
      'x-bt-found-existing': 'true',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-bt-cursor',
    },
    body: {
      Code: 'ForbiddenError',
      Message: 'Missing read access to organization <org-1> [user_email=<user-1.email>] [timestamp=<timestamp>]',
      InternalTraceId: '<request-id>',
      Path: '/v1/ai_secret',
      Service: 'api',
    },
  })
  const other = n.exchange(raw({ status: 403, text: JSON.stringify({ ...body, InternalTraceId: 'iad1::other' }) }))
  t.equal((other.body as { InternalTraceId: string }).InternalTraceId, '<other-request-id>')
  t.equal(n.text('echoed sk-real-key-123 and sk-dummy-1'), 'echoed <api-key> and <dummy-1>')
})

t.test('bodies: empty, text, JSON, JSON that does not parse', async (t) => {
  const n = new Normaliser({ runToken: TOKEN, redact: [] })
  t.equal(n.exchange(raw({ text: '' })).body, null)
  t.equal(n.exchange(raw({ headers: {}, text: 'plain' })).content_type, null)
  t.equal(n.exchange(raw({ headers: { 'content-type': 'text/plain' }, text: 'plain' })).body, 'plain')
  t.equal(n.exchange(raw({ text: '{not json' })).body, '{not json')
  t.same(
    n.exchange(
      raw({
        headers: { 'content-type': 'application/problem+json' },
        text: '[1, null, true, "2026-01-01T00:00:00+01:00"]',
      }),
    ).body,
    [1, null, true, '<date-time>'],
  )
  t.ok(isJsonType('Application/JSON; charset=utf-8'))
  t.notOk(isJsonType('text/json'))
  t.notOk(isJsonType(null))
})

t.test(
  'a list that holds another secret (a server that ignored the filter): shown as such, nothing of it written',
  async (t) => {
    const n = new Normaliser({ runToken: TOKEN, redact: [] })
    const ours = { id: ID_A, name: `aismock-conformance-${TOKEN}-a` }
    const theirs = { id: 'f9000000-0000-4000-8000-000000000000', name: 'PROD_OPENAI_KEY', preview_secret: 'sk-...xyz' }
    const ex = n.exchange(raw({ text: JSON.stringify({ objects: [theirs, ours, null, 'odd'] }) }))
    t.same(ex.body, {
      objects: [
        '<another secret>',
        { id: '<a.id>', name: 'aismock-conformance-<run>-a' },
        '<another secret>',
        '<another secret>',
      ],
    })
    t.notOk(JSON.stringify(ex).includes('PROD_OPENAI_KEY'))
  },
)
