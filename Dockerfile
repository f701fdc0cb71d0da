# syntax=docker/dockerfile:1
# Shaobing hub image: builds the dashboard, runs the hub as the unprivileged `node` user under
# tini (PID 1 forwards SIGTERM to node, so `docker stop` gets the graceful flush).
# Node tag = the release CI runs (.ci/run prints it); pin by digest in production.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# Manifests first: the dependency layer is reused until a package.json or the lock changes.
COPY package.json package-lock.json ./
COPY schemas/package.json schemas/
COPY hub/package.json hub/
COPY simulators/package.json simulators/
COPY dashboard/package.json dashboard/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20.20.2-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    MQTT_HOST=0.0.0.0 \
    DATA_DIR=/data
COPY package.json package-lock.json ./
COPY schemas/package.json schemas/
COPY hub/package.json hub/
COPY simulators/package.json simulators/
COPY dashboard/package.json dashboard/
# Production dependencies only, plus tsx: the hub runs its TypeScript sources directly.
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm install --no-save --omit=dev --no-audit --no-fund tsx@4.21.0 \
  && npm cache clean --force
COPY tsconfig.json ./
COPY schemas/ schemas/
COPY hub/ hub/
# The demo community simulator (`--with-simulator`) is imported by the hub.
COPY simulators/ simulators/
COPY --from=build /app/dashboard/dist/ dashboard/dist/
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 1883
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "hub/src/main.ts"]
