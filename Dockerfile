# syntax=docker/dockerfile:1
# One image for every service; docker-compose.yml picks the command.

FROM node:20-bookworm-slim AS build
# The label lets `npm run test:compose` remove this project's unused layers after a cold build.
LABEL heroku-db-sync.stage=build
WORKDIR /app
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json .npmrc ./
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/destinations/package.json packages/destinations/
COPY packages/heroku/package.json packages/heroku/
COPY packages/migrate-data/package.json packages/migrate-data/
COPY packages/queue/package.json packages/queue/
COPY packages/sync/package.json packages/sync/
COPY packages/testkit/package.json packages/testkit/
COPY apps/heroku-sim/package.json apps/heroku-sim/
COPY apps/ingress/package.json apps/ingress/
COPY apps/worker/package.json apps/worker/
COPY apps/admin/package.json apps/admin/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages packages
COPY apps apps
# Production dependencies only. TypeScript stays after the prune as an optional peer of valibot (@bull-board/api):
# nothing imports it at run time, and it is a quarter of node_modules.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && rm -rf node_modules/typescript

FROM node:20-bookworm-slim AS runtime
LABEL heroku-db-sync.stage=runtime
# pg_dump for data migrations off Heroku (Debian's postgresql-client: PostgreSQL 15 on bookworm, so it reads source
# databases of PostgreSQL 15 and older; see the README).
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/core/package.json packages/core/
COPY --from=build /app/packages/core/dist packages/core/dist
COPY --from=build /app/packages/db/package.json packages/db/
COPY --from=build /app/packages/db/dist packages/db/dist
COPY --from=build /app/packages/db/drizzle packages/db/drizzle
COPY --from=build /app/packages/destinations/package.json packages/destinations/
COPY --from=build /app/packages/destinations/dist packages/destinations/dist
COPY --from=build /app/packages/heroku/package.json packages/heroku/
COPY --from=build /app/packages/heroku/dist packages/heroku/dist
COPY --from=build /app/packages/migrate-data/package.json packages/migrate-data/
COPY --from=build /app/packages/migrate-data/dist packages/migrate-data/dist
COPY --from=build /app/packages/queue/package.json packages/queue/
COPY --from=build /app/packages/queue/dist packages/queue/dist
COPY --from=build /app/packages/sync/package.json packages/sync/
COPY --from=build /app/packages/sync/dist packages/sync/dist
COPY --from=build /app/apps/heroku-sim/package.json apps/heroku-sim/
COPY --from=build /app/apps/heroku-sim/dist apps/heroku-sim/dist
COPY --from=build /app/apps/heroku-sim/drizzle apps/heroku-sim/drizzle
COPY --from=build /app/apps/ingress/package.json apps/ingress/
COPY --from=build /app/apps/ingress/dist apps/ingress/dist
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/worker/dist apps/worker/dist
COPY --from=build /app/apps/admin/package.json apps/admin/
COPY --from=build /app/apps/admin/dist apps/admin/dist
COPY tools/healthcheck.js tools/hasura-source.js tools/
# FILE_DESTINATIONS_ROOT in docker-compose: a volume mounted here starts out owned by the user that writes to it.
RUN mkdir -p /var/lib/heroku-db-sync/destination-files && chown node:node /var/lib/heroku-db-sync/destination-files
USER node
CMD ["node", "apps/ingress/dist/main.js"]
