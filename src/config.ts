import { parseArgs } from 'node:util'

/** Configuration of the CLI (docs/configuration.md): flags win over environment variables, which win over defaults. */
export interface CliConfig {
  port: number
  /** Absent: both loopback addresses, 127.0.0.1 and ::1 (see listen.ts). */
  host?: string
  db: string
  /** A seed file, false for none, undefined for the built-in demo seed. */
  seed: string | false | undefined
  logLevel: string
  /**
   * How log lines are written: `pretty` (pino-pretty, for a person) or `json` (one JSON object a line, for machines).
   */
  logFormat: LogFormat
  deterministic: boolean
  /** ADMIN_TOKEN (environment only); absent when unset (set but empty is a ConfigError). */
  adminToken?: string
  /** ALLOWED_HOSTS (environment only): Host names answered besides the loopback ones; `*` for every host. */
  allowedHosts?: string[]
  /** CORS_ORIGINS (environment only): origins besides loopback ones that may use /_mock from a browser. */
  corsOrigins?: string[]
  /** REQUEST_TIMEOUT_MS (environment only): the app's default (30 000) when absent. */
  requestTimeoutMs?: number
  /** RATE_LIMIT_PER_MINUTE (environment only); absent when unset, empty or 0 (off). */
  rateLimitPerMinute?: number
  /** MOCK_JOURNAL_SIZE (environment only); absent when unset (the app's default, 1000). */
  journalSize?: number
  /** JWT_SECRET (environment only): HS256 secret for JWT bearer tokens; absent when unset or empty. */
  jwtSecret?: string
  /** HTTPS: `true` (--tls, TLS=1) for a certificate made at start-up, or the files of one to serve; absent for HTTP. */
  tls?: true | TlsFiles
  help: boolean
  version: boolean
}

/**
 * A certificate and key to serve (--tls-cert and --tls-key, or TLS_CERT_FILE and TLS_KEY_FILE), and where each was
 * named, for errors.
 */
export interface TlsFiles {
  cert: string
  key: string
  names: { cert: string; key: string }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

export const USAGE = `Usage: ai-secret-mock [options]

A local, stateful test double of the Braintrust API's AI-secrets resource.

Options (each also read from the environment variable named beside it):
  --port N          PORT       port to listen on; 0 picks a free one (default 8000)
  --host H          HOST       address to listen on (default: both loopback addresses, 127.0.0.1
                               and ::1, whatever localhost resolves to; 0.0.0.0 for every interface)
  --db PATH         DB_PATH    SQLite database; a file keeps state across restarts (default :memory:)
  --seed FILE       SEED_FILE  seed file for a new database (default: the built-in demo seed)
  --no-seed                    start with an empty database
  --log-level L     LOG_LEVEL  ${LOG_LEVELS.join(', ')} (default info)
  --log-format F    LOG_FORMAT json or pretty (default: pretty when stdout is a terminal, else json)
  --deterministic   MOCK_DETERMINISTIC=1  fixed clock and sequential ids, for snapshot tests
  --tls             TLS=1      serve HTTPS, with a certificate made at start-up for localhost, 127.0.0.1
                               and ::1; the banner prints its PEM file (trust it: curl --cacert FILE)
  --tls-cert FILE   TLS_CERT_FILE  serve HTTPS with this certificate (PEM) and key instead;
  --tls-key FILE    TLS_KEY_FILE   give both
  --help, --version

Environment only:
  ADMIN_TOKEN=T             every /_mock route but /_mock/health wants Authorization: Bearer T
  RATE_LIMIT_PER_MINUTE=N   per API key, sliding one-minute window; over it, 429 with Retry-After (default off)
  MOCK_JOURNAL_SIZE=N       /v1 requests kept for GET /_mock/requests, oldest dropped (default 1000; 0 keeps none)
  JWT_SECRET=S              HS256 secret that JWT bearer tokens must be signed with (default unset: JWTs get a 401)
  ALLOWED_HOSTS=H,H         Host names answered besides localhost, 127.0.0.1 and [::1] while listening on loopback;
                            * allows every host (default: every host when listening on another address)
  CORS_ORIGINS=O,O          origins besides loopback ones that may use /_mock from a browser
  REQUEST_TIMEOUT_MS=N      a request whose head and body have not arrived by then gets 408 (default 30000)

Check a server (Braintrust's API, or this mock) against the mock's recorded answers:
  ai-secret-mock conformance --help
`

function port(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(`${name}: must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`)
  }
  return Number(value)
}

function nonEmpty(value: string, name: string): string {
  if (value.trim() === '') throw new ConfigError(`${name}: must not be empty`)
  return value
}

/** A whole number from min to max; undefined when unset or empty. */
function wholeNumber(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name}: must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`)
  }
  return Number(value)
}

function adminToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  // Set but empty would read as "no token": an open control plane by mistake.
  if (value === '')
    throw new ConfigError('ADMIN_TOKEN: set but empty; unset it for an open control plane, or give a token')
  if (!/^[\x21-\x7e]+$/.test(value))
    throw new ConfigError('ADMIN_TOKEN: must be one token of printable characters, without spaces')
  return value
}

/** A comma-separated list (ALLOWED_HOSTS, CORS_ORIGINS): its members, trimmed; undefined when unset or empty. */
function list(value: string | undefined): string[] | undefined {
  const members = (value ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
  return members.length === 0 ? undefined : members
}

/** Settings read from the environment only: the control plane's and the safety ones. */
function environmentConfig(
  env: NodeJS.ProcessEnv,
): Pick<
  CliConfig,
  'adminToken' | 'rateLimitPerMinute' | 'journalSize' | 'allowedHosts' | 'corsOrigins' | 'requestTimeoutMs'
> {
  const token = adminToken(env.ADMIN_TOKEN)
  const rate = wholeNumber(env.RATE_LIMIT_PER_MINUTE, 'RATE_LIMIT_PER_MINUTE', 0, 1_000_000)
  const journal = wholeNumber(env.MOCK_JOURNAL_SIZE, 'MOCK_JOURNAL_SIZE', 0, 100_000)
  const timeout = wholeNumber(env.REQUEST_TIMEOUT_MS, 'REQUEST_TIMEOUT_MS', 1, 3_600_000)
  const hosts = list(env.ALLOWED_HOSTS)
  const origins = list(env.CORS_ORIGINS)
  return {
    ...(token === undefined ? {} : { adminToken: token }),
    ...(rate === undefined || rate === 0 ? {} : { rateLimitPerMinute: rate }),
    ...(journal === undefined ? {} : { journalSize: journal }),
    ...(hosts === undefined ? {} : { allowedHosts: hosts }),
    ...(origins === undefined ? {} : { corsOrigins: origins }),
    ...(timeout === undefined ? {} : { requestTimeoutMs: timeout }),
  }
}

function flag(value: string, name: string): boolean {
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true
  if (['0', 'false', 'no', 'off', ''].includes(value.toLowerCase())) return false
  throw new ConfigError(`${name}: must be 1/true or 0/false, not ${JSON.stringify(value)}`)
}

/**
 * --tls, --tls-cert and --tls-key over TLS, TLS_CERT_FILE and TLS_KEY_FILE: given files win over a generated
 * certificate.
 */
function tlsConfig(
  values: { tls?: boolean; 'tls-cert'?: string; 'tls-key'?: string },
  env: NodeJS.ProcessEnv,
): Pick<CliConfig, 'tls'> {
  const part = (flag: 'tls-cert' | 'tls-key', variable: string) =>
    values[flag] !== undefined
      ? { file: nonEmpty(values[flag], `--${flag}`), name: `--${flag}` }
      : env[variable]
        ? { file: env[variable], name: variable }
        : undefined
  const cert = part('tls-cert', 'TLS_CERT_FILE')
  const key = part('tls-key', 'TLS_KEY_FILE')
  if (cert !== undefined && key === undefined)
    throw new ConfigError(`${cert.name}: give the private key too (--tls-key FILE or TLS_KEY_FILE)`)
  if (key !== undefined && cert === undefined)
    throw new ConfigError(`${key.name}: give the certificate too (--tls-cert FILE or TLS_CERT_FILE)`)
  if (cert !== undefined && key !== undefined)
    return { tls: { cert: cert.file, key: key.file, names: { cert: cert.name, key: key.name } } }
  return (values.tls ?? (env.TLS ? flag(env.TLS, 'TLS') : false)) ? { tls: true } : {}
}

/**
 * Reads the configuration: flags over environment variables over defaults. `stdoutIsTTY`
 * picks the default log format (pretty on a terminal). Throws ConfigError, one line.
 */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv, stdoutIsTTY = false): CliConfig {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        seed: { type: 'string' },
        'no-seed': { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
        deterministic: { type: 'boolean' },
        tls: { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }))
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (see --help)`)
  }
  if (values.seed !== undefined && values['no-seed'])
    throw new ConfigError('--seed and --no-seed: give one or the other')

  const logLevel = (values['log-level'] ?? env.LOG_LEVEL ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      `${values['log-level'] !== undefined ? '--log-level' : 'LOG_LEVEL'}: must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(logLevel)}`,
    )
  }

  const logFormat = (
    values['log-format'] ??
    (env.LOG_FORMAT || (stdoutIsTTY ? 'pretty' : 'json'))
  ).toLowerCase() as LogFormat
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError(
      `${values['log-format'] !== undefined ? '--log-format' : 'LOG_FORMAT'}: must be json or pretty, not ${JSON.stringify(logFormat)}`,
    )
  }

  let seed: string | false | undefined
  if (values['no-seed']) seed = false
  else if (values.seed !== undefined) seed = nonEmpty(values.seed, '--seed')
  else if (env.SEED_FILE !== undefined && env.SEED_FILE !== '') seed = env.SEED_FILE

  return {
    port: values.port !== undefined ? port(values.port, '--port') : env.PORT ? port(env.PORT, 'PORT') : 8000,
    ...(values.host !== undefined ? { host: nonEmpty(values.host, '--host') } : env.HOST ? { host: env.HOST } : {}),
    db: values.db !== undefined ? nonEmpty(values.db, '--db') : env.DB_PATH || ':memory:',
    seed,
    logLevel,
    logFormat,
    deterministic:
      values.deterministic ?? (env.MOCK_DETERMINISTIC ? flag(env.MOCK_DETERMINISTIC, 'MOCK_DETERMINISTIC') : false),
    ...environmentConfig(env),
    ...(env.JWT_SECRET ? { jwtSecret: env.JWT_SECRET } : {}),
    ...tlsConfig(values, env),
    help: values.help ?? false,
    version: values.version ?? false,
  }
}
