# ai-secret-mock: the mock Braintrust AI-secrets API as a container.
#   docker build -t ai-secret-mock . && docker run -p 8000:8000 ai-secret-mock
# Configuration only through the environment variables of the README (PORT, HOST,
# DB_PATH, SEED_FILE, LOG_LEVEL, TLS, TLS_CERT_FILE, ...). State is in memory unless DB_PATH names a
# file: -e DB_PATH=/data/mock.db -v mockdata:/data keeps it across restarts.
#
# Plain Dockerfile syntax only (no BuildKit-only features): it is built with the
# legacy builder through Docker-compatible APIs too (podman, CI service hosts).
#
# The base is pinned by tag, not digest: it was built and tested on machines
# that reach no container registry, so no digest could be resolved. Where a
# registry is reachable, pin it as node:20-bookworm-slim@sha256:<digest>.

# ---- build: dev dependencies, TypeScript, better-sqlite3 compiled from source
FROM node:20-bookworm-slim AS build

# better-sqlite3 is a native addon: without a reachable prebuilt binary it is
# compiled by node-gyp, which needs python3, make and a C++ compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# npm 11 runs dependency install scripts only when allowed (package.json
# "allowScripts"); fail here, not at run time, if better-sqlite3 was not built.
# --ignore-scripts, then the two dependencies' own: the package's prepare script
# (npm run build) needs src/, which comes later, so that this layer stays cached.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3 esbuild \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

COPY tsconfig.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
# Then keep only what runs: the bundles (BUNDLE_DECLARATIONS=off: no declarations);
# production dependencies, better-sqlite3 alone since the rest is bundled (npm
# prune gives what `npm ci --omit=dev` would, without compiling it a second time);
# better-sqlite3 without its sources and build intermediates (about 20 MB: only
# build/Release/better_sqlite3.node is loaded); no type declarations, source
# maps or READMEs in node_modules (about 8 MB; licences stay). Then check that
# the pruned addon still loads.
RUN BUNDLE_DECLARATIONS=off npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/ \
 && rm -rf deps src build \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/ \
 && cd /app \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY.md' \) -delete \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# ---- runtime: production dependencies, dist, migrations, the default seed
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
# Owned by root and read-only for the server: only /data is writable by it.
COPY package.json ./
COPY migrations ./migrations
COPY seed ./seed
COPY --from=build /app/node_modules ./node_modules
# The bundles (the bin, the library it loads, Swagger UI and its files): better-sqlite3 is
# the one package they load from node_modules.
COPY --from=build /app/dist ./dist

# /data for a file database (DB_PATH=/data/mock.db with a volume); not declared
# as a VOLUME, since the default database is in memory and an anonymous volume
# per container would only be left behind.
RUN mkdir -p /data && chown node:node /data

USER node
EXPOSE 8000

# node itself (no curl in the image). ADMIN_TOKEN, when set, guards /_mock/*. With TLS=1 it
# speaks HTTPS and trusts the certificate made at start-up, whose PEM the server writes to
# <tmpdir>/ai-secret-mock-<uid>/tls-<port>.pem (src/tls.ts); with TLS_CERT_FILE it cannot know
# which CA signed the certificate given, so it checks that HTTPS answers without verifying it.
HEALTHCHECK --interval=2s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "const e=process.env,p=e.PORT||8000,f=e.TLS_CERT_FILE,s=f||/^(1|true|yes|on)$/i.test(e.TLS||''),o={headers:e.ADMIN_TOKEN?{authorization:'Bearer '+e.ADMIN_TOKEN}:{},timeout:2500};if(s&&f)o.rejectUnauthorized=false;else if(s)o.ca=require('fs').readFileSync(require('os').tmpdir()+'/ai-secret-mock-'+process.getuid()+'/tls-'+p+'.pem');require(s?'https':'http').get((s?'https':'http')+'://127.0.0.1:'+p+'/_mock/health',o,r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

# node as PID 1, no shell and no init: the server handles SIGTERM/SIGINT itself
# (requests finish, connections close, exit 0 within 2 s).
CMD ["node", "dist/cli.mjs"]
