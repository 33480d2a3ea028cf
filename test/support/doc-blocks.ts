// The examples of the documentation (README.md and every docs/*.md), as the doc test
// (test/docs/examples.test.ts) and the container smoke test (scripts/container-smoke.sh) read
// them: the fenced blocks of each page with their line numbers and the `<!-- doctest: KIND ARGS -->`
// mark on the line before a block, the inline `curl` examples outside blocks, and the role of
// each line of a block marked `container`.
//
//   node --import tsx test/support/doc-blocks.ts container-line ROLE
// prints the documented line that plays ROLE (build_run, run_volume, run_seed, compose_up,
// compose_logs, compose_down), or exits 1 saying why.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The marks a block may carry; what each means is in test/docs/examples.test.ts. */
export const MARK_KINDS = [
  'instance',
  'continues',
  'setup',
  'seed',
  'excerpt',
  'layout',
  'node-test',
  'module',
  'run',
  'long',
  'container',
  'consumer',
  'account',
] as const
export type MarkKind = (typeof MARK_KINDS)[number]

export interface Mark {
  /** The first word after `doctest:`; not checked here (the doc test rejects unknown kinds). */
  kind: string
  /** The words after it, a parenthesised comment left out. */
  args: string[]
  /** 1-based line number of the mark. */
  line: number
}

export interface Block {
  /** The page it is on, relative to the package root: `README.md`, `docs/api.md`. */
  file: string
  /** 1-based line number of the opening fence. */
  line: number
  /** The info string of the fence: `console`, `sh`, `json`, … ('' for none). */
  lang: string
  /** The lines between the fences. */
  lines: string[]
  /** The doctest mark on the nearest non-blank line before the fence, if any. */
  mark: Mark | null
}

export interface InlineExample {
  /** 1-based line number. */
  line: number
  command: string
}

const MARK = /^<!--\s*doctest:\s*(.*?)\s*-->$/

/** Reads a mark's text: `instance --deterministic`, `long (a comment)`. */
export function parseMark(text: string, line: number): Mark {
  const words = text
    .replace(/\(.*\)/, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')
  return { kind: words[0] ?? '', args: words.slice(1), line }
}

/** The pages whose examples run: README.md, then docs/*.md in name order (paths relative to root). */
export function docPages(root: string): string[] {
  const dir = join(root, 'docs')
  const docs = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.md'))
        .sort()
    : []
  return ['README.md', ...docs.map((f) => `docs/${f}`)]
}

/** Splits Markdown into its fenced blocks (``` fences at the start of a line); `file` names the page. */
export function markdownBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    let end = i + 1
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++
    let prev = i - 1
    while (prev >= 0 && lines[prev]!.trim() === '') prev--
    const m = prev >= 0 ? MARK.exec(lines[prev]!.trim()) : null
    blocks.push({
      file,
      line: i + 1,
      lang: open[1]!,
      lines: lines.slice(i + 1, end),
      mark: m === null ? null : parseMark(m[1]!, prev + 1),
    })
    i = end
  }
  return blocks
}

/** Marks that stand on their own, not before a block (a typo, or a block that moved away). */
export function strayMarks(markdown: string): Mark[] {
  const lines = markdown.split('\n')
  const out: Mark[] = []
  lines.forEach((l, i) => {
    const m = MARK.exec(l.trim())
    if (m === null) return
    let next = i + 1
    while (next < lines.length && lines[next]!.trim() === '') next++
    if (!/^```/.test(lines[next] ?? '')) out.push(parseMark(m[1]!, i + 1))
  })
  return out
}

/** Inline code spans outside fenced blocks that are commands to run: `curl …`. */
export function inlineExamples(markdown: string): InlineExample[] {
  const out: InlineExample[] = []
  let inFence = false
  markdown.split('\n').forEach((l, i) => {
    if (/^```/.test(l)) inFence = !inFence
    if (inFence) return
    for (const m of l.matchAll(/`(curl [^`]+)`/g)) out.push({ line: i + 1, command: m[1]! })
  })
  return out
}

export const CONTAINER_ROLES = [
  'build_run',
  'run_volume',
  'run_seed',
  'compose_up',
  'compose_logs',
  'compose_down',
] as const
export type ContainerRole = (typeof CONTAINER_ROLES)[number]

/**
 * What the container smoke test does with a line of a `container` block; null: it cannot run it.
 * Every `docker run` publishes the port on 127.0.0.1 only (`-p 127.0.0.1:8000:8000`), as the
 * smoke test expects when it moves the host port.
 */
export function containerRole(line: string): ContainerRole | null {
  if (/^docker build -t \S+ \. && docker run -p 127\.0\.0\.1:8000:8000 \S+$/.test(line)) return 'build_run'
  if (/^docker run -p 127\.0\.0\.1:8000:8000 .*-e DB_PATH=\S+ -v mockdata:\/data \S+$/.test(line)) return 'run_volume'
  if (/^docker run -p 127\.0\.0\.1:8000:8000 .*-e SEED_FILE=\S+ \S+$/.test(line)) return 'run_seed'
  if (line === 'docker compose up -d') return 'compose_up'
  if (line === 'docker compose logs app') return 'compose_logs'
  if (line === 'docker compose down') return 'compose_down'
  return null
}

export interface ContainerLine {
  file: string
  line: number
  text: string
  role: ContainerRole | null
}

/** The command lines of the `container` shell blocks (comments and blank lines left out). */
export function containerLines(blocks: Block[]): ContainerLine[] {
  return blocks
    .filter((b) => b.mark?.kind === 'container' && b.lang === 'sh')
    .flatMap((b) =>
      b.lines.map((text, i) => ({
        file: b.file,
        line: b.line + 1 + i,
        text: text.trim(),
        role: containerRole(text.trim()),
      })),
    )
    .filter((l) => l.text !== '' && !l.text.startsWith('#'))
}

/**
 * The one command that plays a role: a line may be shown on several pages (the README's
 * one-liner is docs/docker.md's first line too), but always the same; an error when no line,
 * or lines that differ, play it.
 */
export function containerLine(lines: ContainerLine[], role: ContainerRole): { text: string } | { error: string } {
  const found = lines.filter((l) => l.role === role)
  const texts = [...new Set(found.map((l) => l.text))]
  if (texts.length === 1) return { text: texts[0]! }
  const where = found.map((l) => `${l.file}:${l.line}`).join(', ')
  return {
    error:
      texts.length === 0
        ? `no line plays '${role}' in the blocks marked <!-- doctest: container -->`
        : `${texts.length} different lines play '${role}' (${where}); want one command, shown alike wherever it is`,
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, role] = process.argv.slice(2)
  const root = fileURLToPath(new URL('../..', import.meta.url))
  if (command !== 'container-line' || !(CONTAINER_ROLES as readonly string[]).includes(role ?? '')) {
    process.stderr.write(`usage: doc-blocks.ts container-line ROLE (${CONTAINER_ROLES.join(', ')})\n`)
    process.exit(2)
  }
  const blocks = docPages(root).flatMap((f) => markdownBlocks(readFileSync(join(root, f), 'utf8'), f))
  const found = containerLine(containerLines(blocks), role as ContainerRole)
  if ('error' in found) {
    process.stderr.write(`README.md, docs/*.md: ${found.error}\n`)
    process.exit(1)
  }
  process.stdout.write(`${found.text}\n`)
}
