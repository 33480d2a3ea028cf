// The doc test: every example of README.md and of each docs/*.md runs, and what it prints is what
// the page shows. Messages name the page and line (`docs/control-plane.md:42`).
//
// Each fenced block is one of these (the mark is an HTML comment on the line before the block):
//   ```console, no mark      `$ ` command lines, each followed by the output it shows. The commands
//                            run in one bash in a fresh directory (a project with the package
//                            installed, `dist` as in a clone; `npm start` is the built bin), against
//                            a fresh instance (demo seed, free port; served in this process by
//                            startMockServer, configured as the CLI would be from the same flags)
//                            when they name localhost:8000 or 127.0.0.1:8000. Output compared:
//                            JSON as data, `curl -i` answers by status line, headers (all but date, connection,
//                            keep-alive, content-length) and body; uuids, request ids and times
//                            normalised (not with a deterministic instance); `…` matches any lines,
//                            any JSON value, or (as a key) any other keys. A command whose output
//                            starts with the banner starts a server: it is stopped once the banner
//                            is out, and JSON log lines are left out.
//   <!-- doctest: instance FLAGS -->  a console block whose instance gets these CLI flags / NAME=value.
//   <!-- doctest: continues -->       runs after the previous block's commands (on the same page),
//                                     in the same shell (their output is not checked again), on a
//                                     fresh instance.
//   <!-- doctest: setup -->      sh lines that set variables; run before each inline `curl …`
//                                example after it on its page (the API table), on a reset
//                                instance: each must work on its own and answer 2xx (read from
//                                the journal).
//   <!-- doctest: seed -->       a JSON seed file: the app must accept it.
//   <!-- doctest: excerpt FILE [PATH] -->  YAML or JSON that FILE holds (as data; "..." matches
//                                anything); with PATH (`exchanges.21`), what FILE holds there.
//   <!-- doctest: layout -->     a file tree: every path it names exists.
//   <!-- doctest: node-test FILE -->  a node:test file: written to FILE in a project with the
//                                package installed, `node --test FILE` must pass (code-examples.test.ts).
//   <!-- doctest: module NAME -->  code to copy: run with a driver NAME that uses it (code-examples.test.ts).
//   <!-- doctest: run <x>=value … -->  sh lines run in this checkout, placeholders filled; exit 0
//                                (commands.test.ts).
//   <!-- doctest: long -->       too long for npm test (installs, the full bench or reliability
//                                run): not run; every `npm run X` must be a script of package.json.
//                                On a console block: a transcript of such a run, as it was seen.
//   <!-- doctest: container -->  Docker, Compose, Testcontainers: run by scripts/container-smoke.sh,
//                                which reads its lines by role (test/support/doc-blocks.ts); here
//                                every line must have a role, a role one command wherever it is
//                                shown, and every `docker run` publishes on 127.0.0.1 only.
//   <!-- doctest: consumer FILE -->  a file of test/consumer/, shown whole: here it must be that file
//                                as it is; scripts/consumer-smoke.sh runs it against the packed
//                                tarball in a fresh project, on Node 20, 22 and 24.
//   <!-- doctest: account -->    commands for the user's own Braintrust account, which cannot run here:
//                                each runs against a fresh instance instead (its URL for
//                                https://api.braintrust.dev, acme for "your organization", the demo key
//                                sk-mock-multi-org for the user's) and must exit 0.
//   <!-- doctest: consumer install -->  the install lines: every line installs the package as a dev
//                                dependency, one from this version's tarball (what `npm pack` makes,
//                                and what scripts/consumer-smoke.sh installs), one from a git URL;
//                                none by its name from the registry, where it is not published.
// Any other block fails this test: an example with output can never go untested.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import t, { type Test } from 'tap'
import YAML from 'yaml'
import { buildMockApp } from '../../src/app.js'
import { PACKAGE_ROOT } from '../../src/paths.js'
import {
  CONTAINER_ROLES,
  MARK_KINDS,
  containerLine,
  containerLines,
  inlineExamples,
  strayMarks,
} from '../support/doc-blocks.js'
import {
  ANY,
  BANNER,
  BLOCKS,
  Normaliser,
  PAGES,
  SCRIPTS,
  VARYING_HEADERS,
  at,
  consoleCommands,
  linesMatch,
  parseHttp,
  parseJson,
  project,
  readerDir,
  refersToInstance,
  retarget,
  runShell,
  startInstance,
  type Instance,
} from '../support/docs.js'

/** Which kinds of block each mark may sit on. */
const MARK_LANGS: Record<string, string[]> = {
  instance: ['console'],
  continues: ['console'],
  setup: ['sh'],
  seed: ['json'],
  excerpt: ['yaml', 'json'],
  layout: [''],
  'node-test': ['js'],
  module: ['js'],
  run: ['sh'],
  long: ['sh', 'console'],
  container: ['sh', 'ts'],
  consumer: ['js', 'sh'],
  account: ['sh'],
}

t.test('every block of every page is an example this test runs, or marked as run elsewhere', async (t) => {
  t.ok(PAGES.length > 1, `the pages: ${PAGES.map((p) => p.file).join(', ')}`)
  const problems: string[] = []
  for (const b of BLOCKS) {
    const where = `${at(b.file, b.line)}: a ${b.lang === '' ? 'plain' : b.lang} block`
    if (b.mark === null) {
      if (b.lang !== 'console')
        problems.push(
          `${where} without a doctest mark: make it a console example ($ command, then its output) or mark it <!-- doctest: KIND --> (${MARK_KINDS.join(', ')})`,
        )
      continue
    }
    if (!(MARK_KINDS as readonly string[]).includes(b.mark.kind))
      problems.push(
        `${at(b.file, b.mark.line)}: unknown doctest mark "${b.mark.kind}" (known: ${MARK_KINDS.join(', ')})`,
      )
    else if (!MARK_LANGS[b.mark.kind]!.includes(b.lang))
      problems.push(
        `${where} marked "${b.mark.kind}", which is for ${MARK_LANGS[b.mark.kind]!.map((l) => l || 'plain').join(' or ')} blocks`,
      )
  }
  for (const p of PAGES)
    for (const m of strayMarks(p.markdown))
      problems.push(`${at(p.file, m.line)}: a doctest mark not followed by a block`)
  t.same(problems, [], 'no block is left unrun and unmarked')
})

t.test('container blocks: every line is one scripts/container-smoke.sh runs, each role one command', async (t) => {
  const lines = containerLines(BLOCKS)
  for (const l of lines)
    t.not(l.role, null, `${at(l.file, l.line)}: scripts/container-smoke.sh knows what to do with: ${l.text}`)
  for (const role of CONTAINER_ROLES) {
    const found = containerLine(lines, role)
    t.ok('text' in found, 'error' in found ? found.error : `${role}: ${found.text}`)
  }
})

t.test('every docker run of the docs publishes on 127.0.0.1 only', async (t) => {
  for (const b of BLOCKS)
    b.lines.forEach((l, i) => {
      if (!/\bdocker run\b/.test(l)) return
      const ports = [...l.matchAll(/(?:^|\s)-p\s+(\S+)/g)].map((m) => m[1]!)
      t.ok(ports.length > 0, `${at(b.file, b.line + 1 + i)}: publishes a port: ${l.trim()}`)
      for (const p of ports) t.match(p, /^127\.0\.0\.1:/, `${at(b.file, b.line + 1 + i)}: -p ${p} is on 127.0.0.1`)
    })
})

t.test('long blocks name scripts package.json has', async (t) => {
  for (const b of BLOCKS.filter((b) => b.mark?.kind === 'long')) {
    b.lines.forEach((l, i) => {
      for (const m of l.matchAll(/npm run ([\w:-]+)/g))
        t.ok(SCRIPTS[m[1]!], `${at(b.file, b.line + 1 + i)}: npm run ${m[1]} is a script of package.json`)
    })
  }
})

// --- console examples ------------------------------------------------------------------------

/** The commands a `continues` block replays first: the previous runnable block's on its page, recursively. */
function prelude(index: number): { commands: string[]; instance: string[] } {
  const b = BLOCKS[index]!
  const prev = BLOCKS.slice(0, index)
    .reverse()
    .find((p) => p.file === b.file && ((p.lang === 'console' && p.mark?.kind !== 'long') || p.mark?.kind === 'setup'))
  if (prev === undefined) throw new Error(`${at(b.file, b.line)}: "continues", but no example before it on its page`)
  const pi = BLOCKS.indexOf(prev)
  const before =
    prev.mark?.kind === 'continues'
      ? prelude(pi)
      : { commands: [], instance: prev.mark?.kind === 'instance' ? prev.mark.args : [] }
  const own = prev.lang === 'console' ? consoleCommands(prev).map((c) => c.text) : [prev.lines.join('\n')]
  return { commands: [...before.commands, ...own], instance: before.instance }
}

/** Compares one command's output with what the page shows; each difference is a failed assertion. */
function compare(t: Test, where: string, expected: string[], actual: string, deterministic: boolean) {
  // Each side numbers its own ids: the same id twice on one side must be the same id twice on the other.
  const norm = { shown: new Normaliser(deterministic), got: new Normaliser(deterministic) }
  const shown = expected.join('\n')
  const got = actual.replace(/\s+$/, '')
  const http = parseHttp(shown)
  if (http !== null) {
    const real = parseHttp(got)
    if (real === null) return t.fail(`${where}: the page shows an HTTP answer, the command printed:\n${got}`)
    t.equal(real.status, http.status, `${where}: status line`)
    for (const [name, value] of http.headers) {
      if (!real.headers.has(name)) t.fail(`${where}: header ${name}: the page shows it, the answer has none`)
      else t.equal(norm.got.text(real.headers.get(name)!), norm.shown.text(value), `${where}: header ${name}`)
    }
    for (const name of real.headers.keys())
      if (!http.headers.has(name) && !VARYING_HEADERS.has(name))
        t.fail(`${where}: header ${name}: the answer has it (${real.headers.get(name)}), the page does not show it`)
    return body(t, `${where}: body`, http.body.split('\n'), real.body, norm)
  }
  body(t, where, expected, got, norm)
}

function body(
  t: Test,
  where: string,
  expected: string[],
  actual: string,
  norm: { shown: Normaliser; got: Normaliser },
) {
  const shown = expected.join('\n').trim()
  const want = shown === '' ? { ok: false as const } : parseJson(shown)
  if (want.ok) {
    const got = parseJson(actual)
    if (!got.ok) return t.fail(`${where}: the page shows JSON, the command printed:\n${actual}`)
    const e = norm.shown.json(want.value)
    return t.same(project(e, norm.got.json(got.value)), e, `${where}: JSON (as data)`)
  }
  const want2 = norm.shown.text(expected.join('\n')).split('\n')
  const got2 = actual === '' ? [] : norm.got.text(actual).split('\n')
  const wantLines = shown === '' ? [] : want2
  if (linesMatch(wantLines, got2)) return t.pass(`${where}: output`)
  t.equal(got2.join('\n'), wantLines.join('\n'), `${where}: output`)
}

const consoleBlocks = BLOCKS.map((b, i) => ({ b, i })).filter(
  ({ b }) => b.lang === 'console' && b.mark?.kind !== 'long',
)
for (const { b, i } of consoleBlocks) {
  t.test(`${at(b.file, b.line)}: console example`, async (t) => {
    const commands = consoleCommands(b)
    const chain =
      b.mark?.kind === 'continues'
        ? prelude(i)
        : { commands: [], instance: b.mark?.kind === 'instance' ? b.mark.args : [] }
    const deterministic = chain.instance.includes('--deterministic') || chain.instance.includes('MOCK_DETERMINISTIC=1')
    const { cwd, env } = readerDir()
    let instance: Instance | null = null
    if ([...chain.commands, ...commands.map((c) => c.text)].some(refersToInstance))
      instance = await startInstance(chain.instance)
    try {
      const port = instance?.port ?? null
      const isServer = (c: { expected: string[] }) =>
        c.expected.filter((l) => l !== ANY)[0]?.startsWith(BANNER) === true
      const ran = await runShell(
        [
          ...chain.commands.map((text) => ({ text: retarget(text, port) })),
          ...commands.map((c) => ({ text: retarget(c.text, port), server: isServer(c) })),
        ],
        cwd,
        env,
      )
      const own = ran.slice(chain.commands.length)
      for (const [k, r] of ran.slice(0, chain.commands.length).entries()) {
        const from = chain.commands[k]!.split('\n')[0]
        t.equal(r.code, 0, `the command continued from (${from}) exits 0; it printed: ${r.output}`)
      }
      for (const [k, c] of commands.entries()) {
        const where = `${at(b.file, c.line)}: $ ${c.text.split('\n')[0]}`
        const r = own[k]
        if (r === undefined || r.code === -1) {
          t.fail(`${where}: did not finish: ${r?.output ?? ''}`)
          continue
        }
        let output = r.output
        if (port !== null) output = output.replaceAll(`:${port}`, ':8000')
        const served = /listening on http:\/\/[^\s:]+:(\d+)/.exec(output)
        if (isServer(c) && served !== null) output = output.replaceAll(`:${served[1]}`, ':8000')
        compare(t, where, c.expected, output, deterministic)
      }
    } finally {
      await instance?.stop()
    }
  })
}

// --- setup and the inline examples after it (the API table) -----------------------------------

t.test('inline curl examples: each works on its own after its setup block', async (t) => {
  const { cwd, env } = readerDir()
  const instance = await startInstance([])
  try {
    for (const page of PAGES) {
      const setups = page.blocks.filter((b) => b.mark?.kind === 'setup')
      const setupFor = (line: number) => [...setups].reverse().find((s) => s.line < line)
      for (const s of setups) {
        const [r] = await runShell([{ text: retarget(s.lines.join('\n'), instance.port) }], cwd, env)
        t.equal(r?.code, 0, `${at(page.file, s.line)}: the setup lines exit 0`)
        t.equal(r?.output, '', `${at(page.file, s.line)}: the setup lines print nothing`)
      }
      for (const ex of inlineExamples(page.markdown)) {
        const where = `${at(page.file, ex.line)}: ${ex.command}`
        t.equal((await fetch(`${instance.url}/_mock/reset`, { method: 'POST' })).status, 200, 'reset')
        const setup = setupFor(ex.line)
        const ran = await runShell(
          [...(setup === undefined ? [] : [{ text: setup.lines.join('\n') }]), { text: ex.command }].map((c) => ({
            text: retarget(c.text, instance.port),
          })),
          cwd,
          env,
        )
        const r = ran[ran.length - 1]!
        const journal = (await (await fetch(`${instance.url}/_mock/requests`)).json()) as {
          requests: { method: string; path: string; status: number | null }[]
        }
        const last = journal.requests[journal.requests.length - 1]
        t.equal(r.code, 0, `${where}: exits 0`)
        t.ok(
          last !== undefined && last.status !== null && last.status >= 200 && last.status < 300,
          `${where}: answered ${last?.status ?? 'nothing'} (want 2xx); it printed: ${r.output.slice(0, 400)}`,
        )
      }
    }
  } finally {
    await instance.stop()
  }
})

// --- data blocks -------------------------------------------------------------------------------

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'account')) {
  t.test(
    `${at(b.file, b.line)}: the commands for a Braintrust account work, run against a fresh instance`,
    async (t) => {
      const { cwd, env } = readerDir()
      const instance = await startInstance([])
      try {
        const text = b.lines
          .join('\n')
          .replaceAll('https://api.braintrust.dev', instance.url)
          .replaceAll('"your organization"', 'acme')
          .replace(/BRAINTRUST_API_KEY=\S+/, 'BRAINTRUST_API_KEY=sk-mock-multi-org')
        t.notOk(text.includes('api.braintrust.dev'), `${at(b.file, b.line)}: every command is retargeted`)
        const [r] = await runShell([{ text: `set -e\n${text}` }], cwd, env)
        t.equal(r?.code, 0, `${at(b.file, b.line)}: the commands exit 0; they printed: ${r?.output ?? ''}`)
      } finally {
        await instance.stop()
      }
    },
  )
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'consumer')) {
  const arg = b.mark!.args[0] ?? ''
  if (arg === 'install') {
    t.test(
      `${at(b.file, b.line)}: the install lines: this version's tarball, a git URL, not the registry`,
      async (t) => {
        const { name, version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
          name: string
          version: string
        }
        const commands = b.lines.map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '')
        for (const c of commands) t.match(c, /^npm install -D \S+$/, `${at(b.file, b.line)}: ${c}: a dev dependency`)
        t.notOk(
          commands.includes(`npm install -D ${name}`),
          `${at(b.file, b.line)}: not from the registry by its name ${name}: it is not published there`,
        )
        t.ok(
          commands.includes(`npm install -D ./${name}-${version}.tgz`),
          `${at(b.file, b.line)}: the tarball of version ${version}, as npm pack names it`,
        )
        t.ok(
          commands.some((c) => /^npm install -D git\+https:\/\/\S+\.git$/.test(c)),
          `${at(b.file, b.line)}: from a git URL`,
        )
      },
    )
    continue
  }
  t.test(`${at(b.file, b.line)}: test/consumer/${arg} as it is (run by scripts/consumer-smoke.sh)`, async (t) => {
    const file = join(PACKAGE_ROOT, 'test', 'consumer', arg)
    if (arg === '' || !existsSync(file))
      return t.fail(`${at(b.file, b.mark!.line)}: test/consumer/${arg} does not exist`)
    t.equal(
      `${b.lines.join('\n')}\n`,
      readFileSync(file, 'utf8'),
      `${at(b.file, b.line)}: the block is test/consumer/${arg}, whole`,
    )
  })
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'seed')) {
  t.test(`${at(b.file, b.line)}: the seed-file example is a seed the mock accepts`, async (t) => {
    const { cwd } = readerDir()
    const file = join(cwd, 'seed.json')
    writeFileSync(file, b.lines.join('\n'))
    const { app, mock } = await buildMockApp({ db: ':memory:', seed: file, logger: false })
    t.teardown(() => app.close())
    t.not(mock.seeded, null, 'seeded')
  })
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'excerpt')) {
  t.test(`${at(b.file, b.line)}: an excerpt of ${b.mark!.args[0]}`, async (t) => {
    const file = join(PACKAGE_ROOT, b.mark!.args[0] ?? '')
    if (!existsSync(file)) return t.fail(`${at(b.file, b.mark!.line)}: ${b.mark!.args[0]} does not exist`)
    const shown = YAML.parse(b.lines.join('\n')) as unknown
    let real = YAML.parse(readFileSync(file, 'utf8')) as unknown
    for (const step of (b.mark!.args[1] ?? '').split('.').filter((x) => x !== ''))
      real = (real as Record<string, unknown> | undefined)?.[step]
    t.same(subset(shown, real), shown, `${at(b.file, b.line)}: what the page shows is in ${b.mark!.args[0]}`)
  })
}

/** The real value cut to what the excerpt shows: only its keys; "..." matches anything. */
function subset(shown: unknown, real: unknown): unknown {
  if (shown === '...' || shown === ANY) return shown
  if (Array.isArray(shown) && Array.isArray(real))
    return real.map((r, i) => (i < shown.length ? subset(shown[i], r) : r))
  if (
    shown !== null &&
    typeof shown === 'object' &&
    real !== null &&
    typeof real === 'object' &&
    !Array.isArray(real)
  ) {
    const s = shown as Record<string, unknown>
    const r = real as Record<string, unknown>
    return Object.fromEntries(
      Object.keys(s)
        .filter((k) => k in r)
        .map((k) => [k, subset(s[k], r[k])]),
    )
  }
  return real
}

for (const b of BLOCKS.filter((b) => b.mark?.kind === 'layout')) {
  t.test(`${at(b.file, b.line)}: every path of the project layout exists`, async (t) => {
    b.lines.forEach((l, i) => {
      const first = /^(\S.*?)(?:\s{2,}|$)/.exec(l)?.[1]
      if (first === undefined) return
      const [head, ...more] = first.split(/,\s*/)
      const paths = [head!, ...more.map((m) => (m.includes('/') ? m : join(dirname(head!), m)))]
      for (const p of paths) t.ok(existsSync(join(PACKAGE_ROOT, p)), `${at(b.file, b.line + 1 + i)}: ${p} exists`)
    })
  })
}
