// The README's Testcontainers (Node) example, run for real (opt-in step of
// scripts/container-smoke.sh: CONTAINER_SMOKE_TESTCONTAINERS=1). Copied next to a
// cached `testcontainers` install and run there, so the project's own
// dependencies stay untouched.
//   node testcontainers-check.mjs <path to the repository>
import { GenericContainer, Wait } from 'testcontainers'

const t0 = Date.now()
const image = await GenericContainer.fromDockerfile(process.argv[2]).build('ai-secret-mock', { deleteOnExit: false })
const mock = await image
  .withExposedPorts(8000)
  .withWaitStrategy(Wait.forHealthCheck())
  .withStartupTimeout(30_000)
  .start()
const baseUrl = `http://${mock.getHost()}:${mock.getMappedPort(8000)}`
console.log(`healthy at ${baseUrl} after ${Date.now() - t0} ms (build included)`)
try {
  const del = () =>
    fetch(`${baseUrl}/v1/ai_secret`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk-mock-acme-owner', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'OPENAI_API_KEY' }),
    })
  const first = await del()
  const second = await del()
  console.log(`DELETE -> ${first.status}, again -> ${second.status}`)
  if (first.status !== 200 || second.status !== 400) process.exitCode = 1
} finally {
  const t1 = Date.now()
  await mock.stop()
  console.log(`stopped in ${Date.now() - t1} ms`)
}
