# auditduck: the main job in a container. Three stages: `build` compiles TypeScript with every dependency,
# `deps` installs only what runs (npm ci --omit=dev; no install script is needed by a runtime package, and
# `prepare` would need tsc), and the image keeps dist/, those node_modules and the files read at run time.
# test/deploy/image-layout.test.ts lays these COPYs out in a temp dir and runs `run` from it as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci --ignore-scripts && npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production AUDITDUCK_DB=/data/auditduck.duckdb AUDITDUCK_HTTP_HOST=0.0.0.0 AUDITDUCK_HTTP_PORT=8080
# glibc gives each thread that allocates an arena of its own (up to 8 a core), and DuckDB's and V8's threads leave
# them part-empty: two arenas cut the peak RSS of a 2M-record ingest by about 35 MB at no measured cost in CPU
# (docs/configuration.md, Memory). Read by glibc at the process's start, so it is set here, not in the code.
ENV MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY queries ./queries
COPY dashboards ./dashboards
COPY samples ./samples
COPY src/web/ui ./src/web/ui
# The store's volume belongs to the user the job runs as; a volume mounted here starts with this owner.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 8080
USER node
# Liveness: the process serves HTTP. Readiness (/readyz) is for orchestrators that route traffic or page.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AUDITDUCK_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM stops within AUDITDUCK_SHUTDOWN_TIMEOUT_MS (10 s), inside Docker's and Kubernetes' 30 s grace period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/auditduck.js"]
CMD ["run"]
