# syntax=docker/dockerfile:1
# One image, three entry points:
#   HTTP API (default):  docker run IMAGE
#   worker:              docker run IMAGE node dist/worker.js
#   migrations:          docker run -e DATABASE_URL=postgres://... IMAGE node dist/db/migrate-cli.js
# Debian (glibc), not Alpine: the Temporal SDK's native core-bridge ships glibc builds.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
# npm 11 reads package.json "allowScripts" (which dependencies may run install scripts); Node 20 ships npm 10.
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
RUN npm install -g npm@${NPM_VERSION}
WORKDIR /app

# All dependencies, exactly as locked.
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci

# tsc to dist/, then the workflow bundle and SQL migrations (scripts/build-bundle.ts).
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-bundle.ts ./scripts/
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM deps AS prod-deps
RUN npm prune --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000
WORKDIR /app
# Owned by root and read-only to the `node` user the processes run as.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
CMD ["node", "dist/http/server.js"]
