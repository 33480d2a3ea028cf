import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { Agent, fetch as undiciFetch } from 'undici'
import { PACKAGE_ROOT } from '../src/paths.js'
import { selfSignedCertificate } from '../src/self-signed.js'
import { startMockServer, type MockServer } from '../src/start-mock-server.js'
import { checkPair, readTlsFiles, serverTls, writeCertificate } from '../src/tls.js'
import { KEYS } from './support/app.js'

// HTTPS as clients that check certificates see it: curl, Node (fetch with NODE_EXTRA_CA_CERTS,
// undici with the PEM as its CA) and Python's standard library, on both loopback addresses.
// The command's flags are in test/cli-tls.test.ts.

const run = promisify(execFile)

async function start(t: Test, options: Parameters<typeof startMockServer>[0] = {}): Promise<MockServer> {
  const server = await startMockServer({ logger: false, ...options })
  t.teardown(() => server.close())
  return server
}

function pemFile(pem: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tls-test-')), 'cert.pem')
  writeFileSync(file, pem)
  return file
}

/** A certificate and key of one's own, as a user would bring them (made here with the same library). */
const own = selfSignedCertificate()

t.test('the certificate made at start-up: localhost, 127.0.0.1 and ::1, its own trust anchor, its key', async (t) => {
  const now = Date.parse('2026-01-31T12:00:00Z')
  const pair = await selfSignedCertificate(now)
  const cert = new X509Certificate(pair.cert)
  t.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  t.equal(cert.ca, true, 'a CA certificate: trusted as given to curl --cacert or NODE_EXTRA_CA_CERTS')
  t.ok(cert.verify(cert.publicKey), 'self-signed')
  t.equal(new Date(cert.validFrom).getTime(), now - 3_600_000, 'valid from an hour before')
  t.equal(new Date(cert.validTo).getTime(), now + 365 * 86_400_000, 'for 365 days')
  t.match(cert.subject, /CN=localhost/)
  t.match(pair.cert, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/)
  t.match(pair.key, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/)
  t.doesNotThrow(() => checkPair(pair, { cert: 'c', key: 'k' }), 'the key is the certificate\u2019s')
  const other = await selfSignedCertificate(now)
  t.not(other.cert, pair.cert, 'a new key and serial number each time')
  // OpenSSL's strict checks (X509_STRICT: Python 3.13's default) accept it as client and server see it.
  const openssl = spawnSync(
    'openssl',
    ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', pemFile(pair.cert), pemFile(pair.cert)],
    {
      encoding: 'utf8',
    },
  )
  if (openssl.error === undefined)
    t.equal(openssl.status, 0, `openssl verify -x509_strict: ${openssl.stdout}${openssl.stderr}`)
})

t.test('startMockServer({ tls: true }): an https URL and the PEM, on both loopback addresses, for curl', async (t) => {
  const server = await start(t, { tls: true })
  t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.match(server.ca, /^-----BEGIN CERTIFICATE-----\n/)
  const port = new URL(server.url).port
  const cacert = pemFile(server.ca!)
  for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
    const { stdout } = await run('curl', ['-sS', '--cacert', cacert, `https://${host}:${port}/_mock/health`])
    t.equal(stdout, '{"status":"ok"}', `curl --cacert https://${host}:${port}`)
  }
  const { stdout } = await run('curl', [
    '-sS',
    '-i',
    '--cacert',
    cacert,
    '-X',
    'DELETE',
    '-H',
    `authorization: Bearer ${KEYS.owner}`,
    '-H',
    'content-type: application/json',
    '--data',
    '{"name":"OPENAI_API_KEY"}',
    `${server.url}/v1/ai_secret`,
  ])
  t.match(stdout, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(stdout, /\r\nx-request-id: mock::[0-9a-f-]{36}\r\n/)
  t.match(stdout, /"name":"OPENAI_API_KEY"/)

  const untrusted = await run('curl', ['-sS', `${server.url}/_mock/health`]).catch((err: { code: number }) => err.code)
  t.equal(untrusted, 60, 'curl without --cacert refuses it (exit 60: certificate problem)')
  const plain = await run('curl', ['-sS', `http://127.0.0.1:${port}/_mock/health`]).catch(
    (err: { code: number }) => err.code,
  )
  t.not(plain, 0, 'plain HTTP is not served on the port')
  const journal = await server.requests()
  t.same(
    journal.map((e) => [e.method, e.status]),
    [['DELETE', 200]],
  )
})

t.test('Node: fetch with NODE_EXTRA_CA_CERTS, and undici with the PEM as its CA', async (t) => {
  const server = await start(t, { tls: true })
  const script = `fetch(process.argv[1] + '/v1/ai_secret?limit=1', { headers: { authorization: 'Bearer ${KEYS.owner}' } })
    .then(async (r) => console.log(r.status, (await r.json()).objects.length))`
  for (const url of [
    server.url,
    server.url.replace('127.0.0.1', 'localhost'),
    server.url.replace('127.0.0.1', '[::1]'),
  ]) {
    const { stdout } = await run(process.execPath, ['-e', script, url], {
      env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: pemFile(server.ca!) },
    })
    t.equal(stdout, '200 1\n', `fetch ${url}`)
  }
  const refused = await run(process.execPath, ['-e', script, server.url], { env: { PATH: process.env.PATH } }).catch(
    (err: { stderr: string }) => err.stderr,
  )
  t.match(refused, /self.signed certificate|SELF_SIGNED_CERT/i, 'fetch without the CA refuses the certificate')

  const dispatcher = new Agent({ connect: { ca: server.ca } })
  t.teardown(() => dispatcher.close())
  const res = await undiciFetch(`${server.url}/_mock/health`, { dispatcher })
  t.equal(res.status, 200)
  t.same(await res.json(), { status: 'ok' })
})

t.test("Python's standard library: ssl.create_default_context(cafile=...), and SSL_CERT_FILE", async (t) => {
  const server = await start(t, { tls: true })
  const cafile = pemFile(server.ca!)
  const withCafile = `import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.verify_flags |= getattr(ssl, 'VERIFY_X509_STRICT', 0)
print(urllib.request.urlopen(sys.argv[1] + '/_mock/health', context=ctx).read().decode())`
  for (const url of [server.url, server.url.replace('127.0.0.1', 'localhost')]) {
    const { stdout } = await run('python3', ['-c', withCafile, url, cafile])
    t.equal(stdout, '{"status":"ok"}\n', `urllib, cafile, X509_STRICT: ${url}`)
  }
  const byEnv =
    "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + '/_mock/health').read().decode())"
  const { stdout } = await run('python3', ['-c', byEnv, server.url], { env: { ...process.env, SSL_CERT_FILE: cafile } })
  t.equal(stdout, '{"status":"ok"}\n', 'urllib with SSL_CERT_FILE')
})

t.test(
  'tls: { cert, key } serves a certificate of the caller\u2019s; a host given is served over HTTPS too',
  async (t) => {
    const pair = await own
    const server = await start(t, { tls: { cert: Buffer.from(pair.cert), key: pair.key }, host: '127.0.0.1' })
    t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    t.equal(server.ca, pair.cert, 'ca is the certificate given, as text')
    const dispatcher = new Agent({ connect: { ca: pair.cert } })
    t.teardown(() => dispatcher.close())
    t.equal((await undiciFetch(`${server.url}/_mock/health`, { dispatcher })).status, 200)
  },
)

t.test('a plain startMockServer() has no ca; HTTP stays HTTP', async (t) => {
  const server = await start(t)
  t.match(server.url, /^http:\/\//)
  t.notOk('ca' in server)
})

t.test('a bad certificate or key is refused before anything listens, naming the part at fault', async (t) => {
  const pair = await own
  const other = await selfSignedCertificate()
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
  const cases: [unknown, RegExp][] = [
    [{ cert: pair.cert, key: other.key }, /^tls\.cert and tls\.key: the certificate does not match the key$/],
    [{ cert: 'not a certificate', key: pair.key }, /^tls\.cert: not a PEM certificate/],
    [{ cert: pair.cert, key: 'not a key' }, /^tls\.key: not a PEM private key/],
    [{ cert: pair.cert, key: encrypted }, /^tls\.key: an encrypted private key: give it decrypted$/],
    [{ cert: pair.cert }, /^tls: must be true, or \{ cert, key \} \(PEM\)$/],
    ['yes', /^tls: must be true, or \{ cert, key \}/],
  ]
  for (const [tls, message] of cases) {
    await t.rejects(startMockServer({ logger: false, tls: tls as never, port: 1 }), { message }, String(message))
  }
})

t.test('readTlsFiles names the flag and the file: missing, a directory, not matching', async (t) => {
  const pair = await own
  const dir = mkdtempSync(join(tmpdir(), 'tls-files-'))
  writeFileSync(join(dir, 'cert.pem'), pair.cert)
  writeFileSync(join(dir, 'key.pem'), pair.key)
  writeFileSync(join(dir, 'other-key.pem'), (await selfSignedCertificate()).key)
  const flags = { cert: '--tls-cert', key: '--tls-key' }
  const read = (cert: string, key: string) => () => readTlsFiles({ cert: join(dir, cert), key: join(dir, key) }, flags)
  t.same(read('cert.pem', 'key.pem')(), { cert: pair.cert, key: Buffer.from(pair.key) })
  t.throws(read('nope.pem', 'key.pem'), {
    message: `--tls-cert ${join(dir, 'nope.pem')}: cannot read it: no such file`,
  })
  t.throws(read('cert.pem', '.'), { message: `--tls-key ${join(dir, '.')}: cannot read it: it is a directory` })
  t.throws(read('cert.pem', 'other-key.pem'), {
    message: `--tls-cert ${join(dir, 'cert.pem')} and --tls-key ${join(dir, 'other-key.pem')}: the certificate does not match the key`,
  })
  await t.rejects(serverTls(null as never), { message: /^tls: must be true/ })
})

t.test('readTlsFiles reads regular files only, of 1 MiB at most: a FIFO or /dev/zero is refused at once', async (t) => {
  // An audit found `--tls-cert fifo.pem` (or /dev/zero) hanging start-up for ever: readFileSync
  // blocked in open() waiting for a writer, or read without end, and with the event loop stopped
  // SIGTERM did nothing either. Now the file is opened without blocking and fstat-ed.
  const pair = await own
  const dir = mkdtempSync(join(tmpdir(), 'tls-files-'))
  writeFileSync(join(dir, 'cert.pem'), pair.cert)
  writeFileSync(join(dir, 'key.pem'), pair.key)
  execFileSync('mkfifo', [join(dir, 'fifo.pem')])
  // Over 1 MiB, though PEM and whole: the bound is on the size alone.
  writeFileSync(join(dir, 'big.pem'), pair.cert + '\n'.repeat(1024 * 1024))
  const flags = { cert: '--tls-cert', key: '--tls-key' }
  const cases: [string, string, string][] = [
    [
      join(dir, 'fifo.pem'),
      join(dir, 'key.pem'),
      `--tls-cert ${join(dir, 'fifo.pem')}: cannot read it: not a regular file`,
    ],
    [
      join(dir, 'cert.pem'),
      join(dir, 'fifo.pem'),
      `--tls-key ${join(dir, 'fifo.pem')}: cannot read it: not a regular file`,
    ],
    [join(dir, 'cert.pem'), '/dev/zero', '--tls-key /dev/zero: cannot read it: not a regular file'],
    [
      join(dir, 'big.pem'),
      join(dir, 'key.pem'),
      `--tls-cert ${join(dir, 'big.pem')}: cannot read it: over 1 MiB, more than a certificate or a key`,
    ],
  ]
  for (const [cert, key, message] of cases) {
    t.throws(() => readTlsFiles({ cert, key }, flags), { message }, message)
  }
})

t.test('a DER certificate is refused as such, before anything listens (node:tls takes PEM only)', async (t) => {
  // An audit found a DER certificate passing the pair check (X509Certificate reads DER) and then
  // failing in listen with OpenSSL's "PEM routines::no start line", naming no part (CLI: exit 1).
  const pair = await own
  const der = new X509Certificate(pair.cert).raw
  await t.rejects(startMockServer({ logger: false, tls: { cert: der, key: pair.key }, port: 0 }), {
    message: 'tls.cert: a DER certificate: give it as PEM (openssl x509 -inform der)',
  })
  const file = join(mkdtempSync(join(tmpdir(), 'tls-der-')), 'cert.der')
  writeFileSync(file, der)
  writeFileSync(`${file}.key`, pair.key)
  t.throws(() => readTlsFiles({ cert: file, key: `${file}.key` }, { cert: '--tls-cert', key: '--tls-key' }), {
    message: `--tls-cert ${file}: a DER certificate: give it as PEM (openssl x509 -inform der)`,
  })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const derKey = rsa.privateKey.export({ type: 'pkcs8', format: 'der' })
  t.throws(() => checkPair({ cert: pair.cert, key: derKey }, { cert: 'c', key: 'k' }), {
    message: 'k: not a PEM private key (-----BEGIN PRIVATE KEY-----)',
  })
})

t.test('a certificate PEM that holds its private key too: ca is the certificates alone', async (t) => {
  // An audit found `ca` handing out the private key when the certificate's PEM held it (one
  // file for both, as some tools write): whoever was given `ca` to trust got the key.
  const pair = await own
  for (const cert of [pair.key + pair.cert, pair.cert + pair.key]) {
    const server = await start(t, { tls: { cert, key: pair.key } })
    t.equal(server.ca, pair.cert, 'the CERTIFICATE block alone')
    const dispatcher = new Agent({ connect: { ca: server.ca } })
    t.teardown(() => dispatcher.close())
    t.equal((await undiciFetch(`${server.url}/_mock/health`, { dispatcher })).status, 200)
  }
  const both = await selfSignedCertificate()
  const chain = `${pair.cert}${both.cert}`
  t.same(
    checkPair({ cert: chain, key: pair.key }, { cert: 'c', key: 'k' }),
    { cert: chain, key: pair.key },
    'a chain stays whole',
  )
  t.same(
    checkPair({ cert: `${pair.key}${pair.cert}`, key: pair.key }, { cert: 'c', key: 'k' }),
    { cert: pair.cert, key: pair.key, keyWithCert: true },
    'keyWithCert: the CLI points clients at a file of the certificates alone',
  )
})

t.test(
  'writeCertificate: tls-<port>.pem in a private folder of the user\u2019s; another folder when that one is not safe',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-write-'))
    const file = writeCertificate('PEM\n', 8443, dir)
    t.equal(file, join(dir, `ai-secret-mock-${process.getuid!()}`, 'tls-8443.pem'))
    t.equal(readFileSync(file, 'utf8'), 'PEM\n')
    t.equal(statSync(join(dir, `ai-secret-mock-${process.getuid!()}`)).mode & 0o777, 0o700)
    t.equal(writeCertificate('PEM 2\n', 8443, dir), file, 'the same port: the same file, replaced')
    t.equal(readFileSync(file, 'utf8'), 'PEM 2\n')

    const taken = mkdtempSync(join(tmpdir(), 'tls-write-'))
    writeFileSync(join(taken, `ai-secret-mock-${process.getuid!()}`), 'a file, not a folder')
    const elsewhere = writeCertificate('PEM\n', 8443, taken)
    t.match(elsewhere, new RegExp(`^${taken}/ai-secret-mock-[A-Za-z0-9]{6}/tls-8443\\.pem$`))

    // A folder where the file should go: the rename fails, and no temporary file is left behind.
    mkdirSync(join(file.replace('8443', '9443'), 'x'), { recursive: true })
    t.throws(() => writeCertificate('PEM\n', 9443, dir))
    t.same(readdirSync(join(dir, `ai-secret-mock-${process.getuid!()}`)).sort(), ['tls-8443.pem', 'tls-9443.pem'])
  },
)

t.test('the certificate library is loaded only when TLS is asked for (the built package)', async (t) => {
  const probe = (tls: boolean) =>
    run(
      process.execPath,
      [
        '-e',
        `const m = require('./dist/index.cjs')
        m.startMockServer({ tls: ${tls} }).then(async (s) => {
          const loaded = Object.keys(require.cache).filter((f) => /self-signed|x509|reflect-metadata/.test(f))
          await s.close()
          console.log(JSON.stringify(loaded.map((f) => f.slice(f.lastIndexOf('/') + 1))))
        })`,
      ],
      { cwd: PACKAGE_ROOT, env: { PATH: process.env.PATH } },
    ).then((r) => JSON.parse(r.stdout) as string[])
  t.same(await probe(false), [], 'a plain start loads no certificate code')
  t.same(await probe(true), ['self-signed.cjs'], 'tls: true loads dist/self-signed.cjs, which holds @peculiar/x509')
})
