// Every relative link of the documentation resolves: README.md, docs/*.md and bench/README.md,
// links to files and folders of the repository, and anchors (`#…`, `page.md#…`) to a heading of
// the page they name, with the anchors GitHub gives headings. External links (https:, mailto:)
// are not fetched. Every page of docs/ is also listed by docs/README.md and by README.md.

import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import t from 'tap'
import { PACKAGE_ROOT } from '../../src/paths.js'
import { docPages } from '../support/doc-blocks.js'

const PAGES = [...docPages(PACKAGE_ROOT), 'bench/README.md']

/** Markdown outside fenced blocks, with inline code spans emptied (their text is not Markdown). */
function prose(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = []
  let fence: string | null = null
  markdown.split('\n').forEach((l, i) => {
    const open = /^(```+|~~~+)/.exec(l)
    if (open !== null) {
      if (fence === null) fence = open[1]!
      else if (l.startsWith(fence)) fence = null
      return
    }
    if (fence === null) out.push({ line: i + 1, text: l.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '``') })
  })
  return out
}

/**
 * GitHub's anchor for a heading (as github-slugger makes it): the text as rendered (code spans'
 * content kept, links' text kept, HTML tags dropped), lower-cased, every character that is not a
 * letter, mark, number, connector (`_`), hyphen or space dropped, spaces made hyphens; a repeated
 * anchor gets -1, -2, ….
 */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-')
}

/** The anchors of a page: each heading's, and any `id` or `name` an HTML tag gives. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  let fence = false
  for (const l of markdown.split('\n')) {
    if (/^(```|~~~)/.test(l)) fence = !fence
    if (fence) continue
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l)
    if (h !== null) {
      const base = slug(h[1]!)
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      out.add(n === 0 ? base : `${base}-${n}`)
    }
    for (const m of l.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) out.add(m[1]!)
  }
  return out
}

/** The link targets of a page: inline links and images, and reference definitions. */
function links(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = []
  for (const { line, text } of prose(markdown)) {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line, target: m[1]! })
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text)
    if (def !== null) out.push({ line, target: def[1]! })
  }
  return out
}

const markdownOf = new Map<string, string>()
const read = (file: string) => {
  if (!markdownOf.has(file)) markdownOf.set(file, readFileSync(join(PACKAGE_ROOT, file), 'utf8'))
  return markdownOf.get(file)!
}

t.test('the anchors GitHub gives headings', async (t) => {
  t.equal(slug('The control plane (`/_mock`)'), 'the-control-plane-_mock')
  t.equal(slug('node:test'), 'nodetest')
  t.equal(slug("Differences from Braintrust's transcript"), 'differences-from-braintrusts-transcript')
  t.equal(slug('What it answers: `status`, `retry_after`'), 'what-it-answers-status-retry_after')
  t.equal(slug('A [linked](x.md) heading'), 'a-linked-heading')
  t.same([...anchors('# A\n## A\n```\n# not a heading\n```\n### A\n')], ['a', 'a-1', 'a-2'])
  t.same(
    links('[a](b.md#c) `[not](a-link)` ![i](img.png "title")\n```\n[x](y)\n```\n[ref]: docs/x.md\n').map(
      (l) => l.target,
    ),
    ['b.md#c', 'img.png', 'docs/x.md'],
  )
})

for (const page of PAGES) {
  t.test(`${page}: every relative link and anchor resolves`, async (t) => {
    let checked = 0
    for (const { line, target } of links(read(page))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      checked++
      const where = `${page}:${line}: ${target}`
      const hash = target.indexOf('#')
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash))
      const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1))
      const file = path === '' ? page : normalize(join(dirname(page), path))
      if (file.startsWith('..') || !existsSync(join(PACKAGE_ROOT, file))) {
        t.fail(`${where}: ${file} does not exist`)
        continue
      }
      if (anchor === null) continue
      if (!file.endsWith('.md') || statSync(join(PACKAGE_ROOT, file)).isDirectory()) {
        t.fail(`${where}: an anchor into ${file}, which is not a Markdown page`)
        continue
      }
      const known = anchors(read(file))
      t.ok(known.has(anchor), `${where}: ${file} has a heading with the anchor #${anchor}`)
    }
    t.pass(`${page}: ${checked} relative links`)
  })
}

t.test('docs/README.md and README.md list every page of docs/', async (t) => {
  const docs = docPages(PACKAGE_ROOT).filter((f) => f.startsWith('docs/') && f !== 'docs/README.md')
  for (const [index, base] of [
    ['docs/README.md', 'docs'],
    ['README.md', '.'],
  ] as const) {
    const linked = new Set(
      links(read(index))
        .map((l) => l.target.split('#')[0]!)
        .filter((p) => p !== '' && !/^[a-z]+:/i.test(p))
        .map((p) => relative('.', normalize(join(base, p)))),
    )
    for (const d of docs) t.ok(linked.has(d), `${index} links to ${d}`)
  }
})
