# auditduck: the main job in a container. Built the same way CI builds it: npm ci (which compiles
# TypeScript through the `prepare` script), then only what runs is kept.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm ci && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production AUDITDUCK_DB=/data/auditduck.duckdb AUDITDUCK_HTTP_HOST=0.0.0.0 AUDITDUCK_HTTP_PORT=8080
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY queries ./queries
COPY dashboards ./dashboards
COPY samples ./samples
VOLUME /data
EXPOSE 8080
USER node
ENTRYPOINT ["node", "bin/auditduck.js"]
CMD ["run"]
