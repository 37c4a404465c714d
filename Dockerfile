# The cutover image: the CLI, the worker (`cutover worker`) and the codec server (`cutover
# codec-server`), used by docker-compose.yml. Untested here (no Docker engine on the dev machines);
# test/deploy.test.ts checks this file and the compose file against what the code expects.
#
#   docker build -t cutover .
#   docker run --rm cutover --help
#
# Node 20 on Debian bookworm; PostgreSQL's client tools (pg_dump, pg_restore) from the PGDG
# repository, because pg_dump must be at least as new as the servers it dumps.
ARG NODE_VERSION=20
ARG PG_CLIENT_VERSION=17

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
ARG PG_CLIENT_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-common \
 && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
 && apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
ENV NODE_ENV=production \
    TEMPORAL_ADDRESS=temporal:7233 \
    CUTOVER_METRICS_ADDRESS=0.0.0.0:9464 \
    CUTOVER_LOG_FORMAT=json \
    CUTOVER_SECRETS_DIR=/run/secrets
# Never root: the image's own unprivileged user (uid 1000).
USER node
EXPOSE 9464
# Healthy while the worker's runtime serves its Prometheus endpoint (the codec server's service
# overrides this with its own port in docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/cutover.js"]
CMD ["worker"]
