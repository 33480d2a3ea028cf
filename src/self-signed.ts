// The certificate `--tls` and `startMockServer({ tls: true })` serve. Loaded only when TLS is
// asked for (src/tls.ts imports it on first use; the package ships it as dist/self-signed.cjs,
// a bundle of its own), so a plain-HTTP start never reads it.
//
// @peculiar/x509 writes the certificate, with a key node:crypto makes: the library selfsigned
// itself builds on, kept up by the authors of pkijs and @peculiar/webcrypto, no OpenSSL binary.
// Its dependency injection (tsyringe) wants the Reflect metadata API, which x509's README asks
// the application to polyfill: reflect-metadata, loaded first, and only here.
import 'reflect-metadata'
import { randomBytes, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

/** What the certificate names: every loopback name a client on this machine may use. */
export const SELF_SIGNED_NAMES = ['localhost', '127.0.0.1', '::1'] as const

/** How long a certificate is valid: from an hour before it was made (clocks of containers drift) to 365 days after. */
const VALID_BEFORE_MS = 3_600_000
const VALID_FOR_MS = 365 * 86_400_000

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  cert: string
  key: string
}

/** node:crypto's WebCrypto, as x509 names the type (the DOM's Crypto, or Node's global one). */
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]

const toPem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n?$/, '\n')}-----END ${label}-----\n`

/**
 * A new self-signed certificate for `localhost`, `127.0.0.1` and `::1`, with a new ECDSA P-256
 * key. It is its own trust anchor: a CA certificate (basic constraints critical, key usage
 * keyCertSign) that is also the server's, as Go's httptest makes them, so that a client told
 * to trust this one PEM (`curl --cacert`, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) accepts the
 * server, OpenSSL's strict checks (Python 3.13's default) included.
 */
export async function selfSignedCertificate(now = Date.now()): Promise<CertificatePair> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  // A positive serial number of 128 random bits (RFC 5280 4.1.2.2).
  const serial = randomBytes(16)
  serial[0]! &= 0x7f
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: 'CN=localhost, O=ai-secret-mock',
      notBefore: new Date(now - VALID_BEFORE_MS),
      notAfter: new Date(now + VALID_FOR_MS),
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          SELF_SIGNED_NAMES.map((name) => ({ type: name === 'localhost' ? 'dns' : 'ip', value: name }) as const),
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  )
  return {
    cert: cert.toString('pem').replace(/\r\n/g, '\n').replace(/\n?$/, '\n'),
    key: toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
  }
}
