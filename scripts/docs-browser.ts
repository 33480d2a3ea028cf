// npm run test:browser (and .ci/run, through scripts/docs-browser.sh): /docs in a real
// browser, as a visitor uses it. Starts the package's bin (dist/cli.mjs) with ADMIN_TOKEN set,
// opens / in headless Chromium (Debian's, /usr/bin/chromium, driven by playwright-core: no
// browser is downloaded), and checks that:
// - / leads to /docs, whose title and top bar name the mock and /openapi.json, and whose
//   description lists the demo keys;
// - Authorize holds the demo API key (bearerAuth) and the admin token (adminToken) at once;
// - Try it out on DELETE /v1/ai_secret, with the example as it is, answers 200 and deletes the
//   demo secret; again, the 400 text; POST /_mock/reset, with the admin token, 200;
// - after a reload the authorization is still there (DELETE answers 200 again, after the reset);
// - a deep link to a /_mock operation opens it; /openapi.yaml shows as text, no download.
// Any page error, console error, failed request or asset answered 4xx/5xx fails it (the
// answers of the API calls the steps make are checked by the steps). A screenshot of each
// step goes to DOCS_BROWSER_SCREENSHOTS (default artifacts/docs-browser/), printed at the end.
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type Locator, type Page } from 'playwright-core'

const ROOT = resolve(import.meta.dirname, '..')
const SHOTS = resolve(process.env.DOCS_BROWSER_SCREENSHOTS ?? join(ROOT, 'artifacts', 'docs-browser'))
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// As root in a container, without a GPU, on a machine whose network is closed: no sandbox, and
// none of Chromium's own background connections.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const ADMIN_TOKEN = `admin-${randomBytes(8).toString('hex')}`
const OWNER_KEY = 'sk-mock-acme-owner'
const ACME_SECRET_ID = '5e3b0c1a-8d2f-4a6e-9b7c-0d1e2f3a4b5c'
const TIMEOUT_MS = 30_000

const problems: string[] = []
const shots: string[] = []
let step = 0

function log(message: string) {
  process.stdout.write(`[docs-browser] ${message}\n`)
}

function check(ok: boolean, what: string) {
  if (!ok) throw new Error(what)
  log(`ok: ${what}`)
}

/** Starts the bin on a free port with ADMIN_TOKEN set; resolves with its URL from the banner. */
function startMock(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.mjs'), '--port', '0'], {
    env: { ...process.env, ADMIN_TOKEN, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d))
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mock did not start: ${out}`)), TIMEOUT_MS)
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d)
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolveUrl({ child, url: m[1]! })
      }
    })
    child.on('exit', (code) => reject(new Error(`the mock exited (${code}): ${out}`)))
  })
}

/** A screenshot of the page (the viewport, or the whole page) or of one operation. */
async function screenshot(target: Page | Locator, name: string, fullPage = false) {
  const file = join(SHOTS, `${String(++step).padStart(2, '0')}-${name}.png`)
  if ('goto' in target) await target.screenshot({ path: file, fullPage })
  else await target.screenshot({ path: file })
  shots.push(file)
}

/** Polls a locator's text until it satisfies the test (Swagger UI re-renders answers in place). */
async function textOf(locator: Locator, test: (text: string) => boolean, what: string): Promise<string> {
  const until = Date.now() + TIMEOUT_MS
  let text = ''
  while (Date.now() < until) {
    text = (await locator.count()) > 0 ? await locator.first().innerText() : ''
    if (test(text)) return text
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what}: got ${JSON.stringify(text.slice(0, 300))}`)
}

/** Opens an operation, clicks Try it out (once) and Execute; resolves with the network answer. */
async function execute(page: Page, opblockId: string, method: string, path: string) {
  const op = page.locator(`#${opblockId}`)
  if (!(await op.getAttribute('class'))!.includes('is-open')) await op.locator('.opblock-summary').first().click()
  const tryOut = op.locator('button.try-out__btn')
  if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click()
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path, {
      timeout: TIMEOUT_MS,
    }),
    op.locator('button.execute').click(),
  ])
  return { op, status: response.status(), type: response.headers()['content-type'] ?? '', body: await response.text() }
}

/** What Swagger UI shows of the last execution of an operation: the curl line, the URL and the server's answer. */
function live(op: Locator) {
  return op.locator('.responses-inner > div').first()
}

/** The status and body Swagger UI shows for the last answer of an operation. */
function shown(op: Locator) {
  const row = op.locator('.live-responses-table tbody tr.response')
  return {
    status: row.locator('.response-col_status'),
    body: row.locator('.response-col_description .microlight, .response-col_description pre'),
  }
}

async function main() {
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  const mock = await startMock()
  log(`mock at ${mock.url} (ADMIN_TOKEN set)`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS })
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    context.setDefaultTimeout(TIMEOUT_MS)
    const page = await context.newPage()
    const isApi = (url: string) => /^\/(v1|_mock)\//.test(new URL(url).pathname)
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
    page.on('console', (m) => {
      // Chrome reports an API answer of 4xx as a console error; the steps check those answers.
      if (m.type() === 'error' && !(m.text().startsWith('Failed to load resource') && isApi(m.location().url))) {
        problems.push(`console error: ${m.text()} (${m.location().url})`)
      }
    })
    page.on('requestfailed', (r) =>
      problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`),
    )
    page.on('response', (r) => {
      if (r.status() >= 400 && !isApi(r.url())) problems.push(`asset answered ${r.status()}: ${r.url()}`)
    })
    page.on('download', (d) => problems.push(`download started: ${d.url()}`))

    // 1. / leads to /docs, which names the mock.
    await page.goto(`${mock.url}/`)
    check(new URL(page.url()).pathname === '/docs', `/ leads to /docs (${page.url()})`)
    await page.locator('.opblock').first().waitFor()
    check((await page.title()).startsWith('ai-secret-mock'), `the page title names the mock: ${await page.title()}`)
    const topbar = await page.locator('.topbar').innerText()
    check(
      topbar.includes('ai-secret-mock: /openapi.json') && !topbar.includes('/docs/json'),
      `the top bar names the mock and /openapi.json: ${JSON.stringify(topbar)}`,
    )
    const info = await page.locator('.information-container').innerText()
    check(
      ['sk-mock-acme-owner', 'sk-mock-multi-org', 'sk-mock-globex-only', 'sk-mock-acme-member', '/_mock/reset'].every(
        (s) => info.includes(s),
      ),
      'the description lists the demo keys and the control routes',
    )
    await screenshot(page, 'docs', true)

    // 2. Authorize: the API key and the admin token, both at once.
    await page.locator('.auth-wrapper button.authorize').click()
    const forms = page.locator('.modal-ux .auth-container')
    await forms.first().waitFor()
    const names = await forms.locator('h4').allInnerTexts()
    check(
      names.length === 2 && names[0]!.startsWith('bearerAuth') && names[1]!.startsWith('adminToken'),
      `Authorize offers bearerAuth and adminToken: ${JSON.stringify(names)}`,
    )
    await forms.nth(0).locator('input').fill(OWNER_KEY)
    await forms.nth(0).locator('button.authorize').click()
    await forms.nth(1).locator('input').fill(ADMIN_TOKEN)
    await forms.nth(1).locator('button.authorize').click()
    const buttons = await forms.locator('button').allInnerTexts()
    check(
      buttons.filter((b) => b.trim() === 'Logout').length === 2,
      `both are held (each shows Logout): ${JSON.stringify(buttons)}`,
    )
    await screenshot(page, 'authorized')
    await forms.nth(0).locator('button.btn-done').click()

    // 3. DELETE /v1/ai_secret with the example as it is: 200, the demo secret.
    const del = await execute(page, 'operations-AiSecrets-deleteAiSecret', 'DELETE', '/v1/ai_secret')
    const sent = await del.op.locator('.curl-command').innerText()
    check(
      sent.includes(`Authorization: Bearer ${OWNER_KEY}`) &&
        sent.includes('"name": "OPENAI_API_KEY"') &&
        sent.includes('"org_name": "acme"'),
      'the example was sent as it is, with the API key',
    )
    check(
      del.status === 200 && del.body.includes(ACME_SECRET_ID),
      `DELETE answered 200 with acme's demo secret: ${del.status} ${del.body.slice(0, 120)}`,
    )
    await textOf(shown(del.op).status, (s) => s.trim() === '200', 'Swagger UI shows 200')
    await screenshot(live(del.op), 'delete-200')

    // 4. Again: the 400 text, shown as it came.
    const again = await execute(page, 'operations-AiSecrets-deleteAiSecret', 'DELETE', '/v1/ai_secret')
    const message =
      'Missing delete access to ai_secret OPENAI_API_KEY, or the ai_secret does not exist ' +
      '[user_email=alice@acme.test] [user_org=acme]'
    check(
      again.status === 400 && again.type.startsWith('text/plain') && again.body.startsWith(message),
      `again: 400 text/plain: ${again.body.slice(0, 160)}`,
    )
    await textOf(shown(again.op).status, (s) => s.trim() === '400', 'Swagger UI shows 400')
    await textOf(shown(again.op).body, (s) => s.includes(message), 'Swagger UI shows the 400 text')
    await screenshot(live(again.op), 'delete-400')

    // 5. POST /_mock/reset with the admin token (the mock runs with ADMIN_TOKEN): 200.
    const reset = await execute(page, 'operations-Mock_control-postMockReset', 'POST', '/_mock/reset')
    const resetSent = await reset.op.locator('.curl-command').innerText()
    check(
      resetSent.includes(`Authorization: Bearer ${ADMIN_TOKEN}`) && !resetSent.includes(OWNER_KEY),
      'the reset was sent with the admin token, not the API key',
    )
    check(
      reset.status === 200 && reset.body.includes('"ai_secrets"'),
      `POST /_mock/reset answered 200: ${reset.status} ${reset.body.slice(0, 120)}`,
    )
    await textOf(shown(reset.op).status, (s) => s.trim() === '200', 'Swagger UI shows 200')
    await screenshot(live(reset.op), 'reset-200')

    // 6. A reload keeps the authorization: DELETE works again (the reset brought the secret back).
    await page.reload()
    await page.locator('.opblock').first().waitFor()
    check(
      (await page.locator('.auth-wrapper button.authorize.locked').count()) === 1,
      'after a reload, Authorize still holds the keys',
    )
    const afterReload = await execute(page, 'operations-AiSecrets-deleteAiSecret', 'DELETE', '/v1/ai_secret')
    check(afterReload.status === 200, `after the reload and the reset, DELETE answers 200 again: ${afterReload.status}`)
    await screenshot(live(afterReload.op), 'after-reload')

    // 7. A deep link to a /_mock operation opens it.
    await page.goto(`${mock.url}/docs#/Mock%20control/postMockReset`)
    await page.locator('#operations-Mock_control-postMockReset.is-open').waitFor()
    check(true, 'a deep link opens POST /_mock/reset')
    await screenshot(page, 'deep-link')

    // 8. The YAML document shows in the browser.
    const yaml = await page.goto(`${mock.url}/openapi.yaml`)
    check(
      yaml !== null && yaml.headers()['content-type']!.startsWith('text/'),
      `/openapi.yaml is text: ${yaml?.headers()['content-type']}`,
    )
    check((await page.locator('body').innerText()).startsWith('openapi: 3.0.3'), '/openapi.yaml shows in the page')
    await screenshot(page, 'openapi-yaml')

    check(
      problems.length === 0,
      `no page error, console error, failed request or asset${problems.length ? `:\n  ${problems.join('\n  ')}` : ''}`,
    )
  } finally {
    await browser.close()
    mock.child.kill('SIGTERM')
    log(`screenshots in ${SHOTS}:`)
    for (const s of shots) log(`  ${s}`)
  }
}

main().then(
  () => log('passed'),
  (err: Error) => {
    log(`FAILED: ${err.message}`)
    if (problems.length > 0) log(`also seen:\n  ${problems.join('\n  ')}`)
    process.exitCode = 1
  },
)
