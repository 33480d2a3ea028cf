import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { parseConfig } from '../src/config.js'
import { PACKAGE_ROOT } from '../src/paths.js'
import { selfSignedCertificate } from '../src/self-signed.js'
import { readTlsFiles } from '../src/tls.js'
import { X509Certificate } from 'node:crypto'
import { SOURCE_CLI } from './support/app.js'

// The command's HTTPS: --tls, --tls-cert and --tls-key and their environment variables, the
// banner's certificate line, the PEM file's life, and the one-line errors (exit 2) given before
// anything listens. What clients make of the certificate is in test/tls.test.ts.

const curl = promisify(execFile)

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

function spawnCli(bin: string[], args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [...bin, ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'cwd-')),
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<Ran>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
  return { child, stdout: () => stdout, exited }
}

/** Starts the command, waits for its banner, and returns what it printed and a stop() that checks the exit. */
async function serve(t: Test, args: string[], env: Record<string, string> = {}, bin = SOURCE_CLI) {
  const r = spawnCli(bin, ['--port', '0', ...args], env)
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${r.stdout()}`)), 15_000)
    r.child.stdout.on('data', () => {
      if (/\n {2}database:/.test(r.stdout())) {
        clearTimeout(timer)
        resolve(r.stdout())
      }
    })
    r.exited.then((ran) => reject(new Error(`exited ${ran.code}: ${ran.stderr}`)))
  })
  return {
    banner,
    url: /listening on (\S+)/.exec(banner)![1]!,
    certificate: /\n {2}certificate: (\S+)\n/.exec(banner)?.[1],
    async stop() {
      r.child.kill('SIGTERM')
      t.equal((await r.exited).code, 0, 'SIGTERM: exit 0')
    },
  }
}

const pair = selfSignedCertificate()

async function certFiles() {
  const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'))
  const { cert, key } = await pair
  writeFileSync(join(dir, 'cert.pem'), cert)
  writeFileSync(join(dir, 'key.pem'), key)
  writeFileSync(join(dir, 'other-key.pem'), (await selfSignedCertificate()).key)
  writeFileSync(join(dir, 'cert.der'), new X509Certificate(cert).raw)
  writeFileSync(join(dir, 'both.pem'), key + cert)
  execFileSync('mkfifo', [join(dir, 'fifo.pem')])
  return {
    dir,
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    otherKey: join(dir, 'other-key.pem'),
    der: join(dir, 'cert.der'),
    both: join(dir, 'both.pem'),
    fifo: join(dir, 'fifo.pem'),
  }
}

t.test('--tls: https on localhost, the PEM file on the banner\u2019s second line, removed at shutdown', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'cli-tls-tmp-'))
  const s = await serve(t, ['--tls'], { TMPDIR: tmp })
  t.match(s.banner, /^ai-secret-mock listening on https:\/\/localhost:\d+\n {2}certificate: \S+\n {2}docs: +https:\/\//)
  const port = new URL(s.url).port
  t.equal(s.certificate, join(tmp, `ai-secret-mock-${process.getuid!()}`, `tls-${port}.pem`))
  t.match(readFileSync(s.certificate!, 'utf8'), /^-----BEGIN CERTIFICATE-----\n/)
  for (const host of ['localhost', '127.0.0.1', '[::1]']) {
    const { stdout } = await curl('curl', ['-sS', '--cacert', s.certificate!, `https://${host}:${port}/_mock/health`])
    t.equal(stdout, '{"status":"ok"}', `curl --cacert ${host}`)
  }
  await s.stop()
  t.notOk(existsSync(s.certificate!), 'the generated PEM file is removed at shutdown')
})

t.test('TLS=1 does the same; the package\u2019s bin (dist/cli.mjs) loads the certificate maker it ships', async (t) => {
  const s = await serve(t, [], { TLS: '1' }, [join(PACKAGE_ROOT, 'dist', 'cli.mjs')])
  t.match(s.url, /^https:\/\/localhost:\d+$/)
  const { stdout } = await curl('curl', ['-sS', '--cacert', s.certificate!, `${s.url}/_mock/health`])
  t.equal(stdout, '{"status":"ok"}')
  await s.stop()
  const off = await serve(t, ['--host', '127.0.0.1'], { TLS: '0' })
  t.match(off.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'TLS=0: HTTP')
  t.equal(off.certificate, undefined, 'no certificate line')
  await off.stop()
})

t.test('--tls-cert and --tls-key (or TLS_CERT_FILE, TLS_KEY_FILE) serve the files given, and keep them', async (t) => {
  const f = await certFiles()
  for (const [args, env] of [
    [['--tls-cert', f.cert, '--tls-key', f.key], {}],
    [[], { TLS_CERT_FILE: f.cert, TLS_KEY_FILE: f.key }],
    [['--tls-key', f.key], { TLS_CERT_FILE: f.cert }],
  ] as [string[], Record<string, string>][]) {
    const s = await serve(t, args, env)
    t.equal(s.certificate, f.cert, 'the banner names the certificate file given')
    const { stdout } = await curl('curl', ['-sS', '--cacert', f.cert, `${s.url}/_mock/health`])
    t.equal(stdout, '{"status":"ok"}')
    await s.stop()
    t.ok(existsSync(f.cert), 'a certificate of the user\u2019s is never removed')
  }
})

t.test(
  'a --tls-cert file that holds the private key too: the banner names a file of the certificates alone',
  async (t) => {
    // An audit found the banner's certificate line naming the file given, key and all: clients
    // told to trust it (curl --cacert, NODE_EXTRA_CA_CERTS, a CI artifact) were handed the key.
    const f = await certFiles()
    const tmp = mkdtempSync(join(tmpdir(), 'cli-tls-tmp-'))
    const s = await serve(t, ['--tls-cert', f.both, '--tls-key', f.both], { TMPDIR: tmp })
    const port = new URL(s.url).port
    t.equal(s.certificate, join(tmp, `ai-secret-mock-${process.getuid!()}`, `tls-${port}.pem`))
    t.equal(readFileSync(s.certificate!, 'utf8'), readFileSync(f.cert, 'utf8'), 'the certificate alone, no key')
    const { stdout } = await curl('curl', ['-sS', '--cacert', s.certificate!, `${s.url}/_mock/health`])
    t.equal(stdout, '{"status":"ok"}')
    await s.stop()
    t.notOk(existsSync(s.certificate!), 'that file is removed at shutdown')
    t.ok(existsSync(f.both), 'the file given is kept')
  },
)

t.test('configuration errors: one line, exit 2, before the database is made or anything listens', async (t) => {
  const f = await certFiles()
  const db = join(f.dir, 'never.db')
  const cases: [string[], Record<string, string>, string][] = [
    [['--tls-cert', f.cert], {}, '--tls-cert: give the private key too (--tls-key FILE or TLS_KEY_FILE)'],
    [[], { TLS_KEY_FILE: f.key }, 'TLS_KEY_FILE: give the certificate too (--tls-cert FILE or TLS_CERT_FILE)'],
    [['--tls-cert', '', '--tls-key', f.key], {}, '--tls-cert: must not be empty'],
    [[], { TLS: 'maybe' }, 'TLS: must be 1/true or 0/false, not "maybe"'],
    [
      ['--tls-cert', join(f.dir, 'missing.pem'), '--tls-key', f.key],
      {},
      `--tls-cert ${join(f.dir, 'missing.pem')}: cannot read it: no such file`,
    ],
    [['--tls-cert', f.cert], { TLS_KEY_FILE: f.dir }, `TLS_KEY_FILE ${f.dir}: cannot read it: it is a directory`],
    [
      ['--tls-cert', f.cert, '--tls-key', f.otherKey],
      {},
      `--tls-cert ${f.cert} and --tls-key ${f.otherKey}: the certificate does not match the key`,
    ],
    [
      ['--tls-cert', f.key, '--tls-key', f.key],
      {},
      `--tls-cert ${f.key}: not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ], // An audit found these two hanging start-up for ever (SIGTERM too), and a DER certificate
    // passing the check to fail as it listened: OpenSSL's "no start line", no file named, exit 1.
    [['--tls-cert', f.fifo, '--tls-key', f.key], {}, `--tls-cert ${f.fifo}: cannot read it: not a regular file`],
    [
      ['--tls-cert', f.cert],
      { TLS_KEY_FILE: '/dev/zero' },
      'TLS_KEY_FILE /dev/zero: cannot read it: not a regular file',
    ],
    [
      ['--tls-cert', f.der, '--tls-key', f.key],
      {},
      `--tls-cert ${f.der}: a DER certificate: give it as PEM (openssl x509 -inform der)`,
    ],
  ]
  // Each message from the command's own two steps, in this process: parseConfig (the flags and
  // variables), then readTlsFiles (the files they name), as src/cli.ts runs them.
  const says = (args: string[], env: Record<string, string>) => {
    try {
      const config = parseConfig(['--port', '0', '--db', db, ...args], env)
      if (config.tls !== undefined && config.tls !== true) readTlsFiles(config.tls, config.tls.names)
      return 'nothing'
    } catch (err) {
      return (err as Error).message
    }
  }
  for (const [args, env, message] of cases) t.equal(says(args, env), message, message)
  // And the command itself, once for each step (spawns cost seconds each): one line, exit 2.
  // The FIFO and the DER certificate too: a regression would hang, so each is given 15 s.
  for (const [args, env, message] of [cases[0]!, cases[6]!, cases[8]!, cases[10]!]) {
    const r = spawnCli(SOURCE_CLI, ['--port', '0', '--db', db, ...args], env)
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000)
    const ran = await r.exited
    clearTimeout(timer)
    t.same(ran, { code: 2, stdout: '', stderr: `ai-secret-mock: ${message}\n` }, `the command: ${message}`)
  }
  t.notOk(existsSync(db), 'no database was made')
})
