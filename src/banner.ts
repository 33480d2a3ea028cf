import { DEMO_SEED_FILE } from './paths.js'
import type { SeedResult } from './seed.js'

/** What each key can do, in words: "owner of acme", "member of acme (read-only)". */
function abilities(orgs: { name: string; role: string }[]): string {
  if (orgs.length === 0) return 'no organization'
  return orgs.map((o) => (o.role === 'owner' ? `owner of ${o.name}` : `member of ${o.name} (read-only)`)).join(', ')
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
  )
}

/** "1 organization", "2 organizations": a count with its noun in the right number. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/**
 * The start-up text: where the mock listens, its docs, what the seed created, and its API keys.
 *
 * The keys of the built-in demo seed (`seed/demo.json`) are printed in full: they are public by
 * design, the same in every copy and in the README. The keys of any other seed are the user's
 * own and may look like real ones, so they are shown as previews (`sk-...ner`, as the journal
 * and `/_mock/state` show them); their plain values are in the seed file. The README's
 * "Configuration" section says the same.
 *
 * @param url where the server listens, `http://host:port`
 * @param db the database path, or `:memory:`
 * @param seed the seed data and the file it came from (`seedSource`: undefined for an object)
 * @param seeded what the seed created, or null when it was not applied
 * @param certificate with HTTPS, the PEM file of the certificate served (for clients to trust)
 */
export function banner(
  url: string,
  db: string,
  seed: { seed: unknown; seedSource?: string },
  seeded: SeedResult | null,
  certificate?: string,
): string {
  const lines = [
    `ai-secret-mock listening on ${url}`,
    ...(certificate === undefined ? [] : [`  certificate: ${certificate}`]),
    `  docs:     ${url}/docs  (OpenAPI: ${url}/openapi.json)`,
    `  database: ${db}`,
  ]
  if (seeded === null) {
    lines.push('  seed:     not applied (no seed, or the database already held data)')
    return `${lines.join('\n')}\n`
  }
  const demo = seed.seedSource === DEMO_SEED_FILE
  const c = seeded
  lines.push(
    `  seeded:   ${count(c.organizations.length, 'organization')}, ${count(c.users.length, 'user')}, ${count(c.api_keys.length, 'API key')}, ${count(c.ai_secrets.length, 'AI secret')}` +
      (demo ? ' (the demo seed)' : seed.seedSource === undefined ? '' : ` from ${seed.seedSource}`),
  )
  if (seeded.api_keys.length > 0) {
    const plain = ((seed.seed as { api_keys?: { key: string }[] }).api_keys ?? []).map((k) => k.key)
    lines.push(
      '',
      demo
        ? '  API keys (Authorization: Bearer <key>; the demo keys are public):'
        : '  API keys (Authorization: Bearer <key>; previews only, the keys are in the seed file):',
    )
    const rows = [
      ['key', 'user', 'scope', 'can'],
      ...seeded.api_keys.map((k, i) => [
        demo ? plain[i]! : k.preview,
        k.user,
        k.org ?? 'all its orgs',
        abilities(k.orgs),
      ]),
    ]
    lines.push(...table(rows))
  }
  return `${lines.join('\n')}\n`
}
