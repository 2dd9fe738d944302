# syntax=docker/dockerfile:1
# Kafka REST gateway image: compiled in a build stage, run as an unprivileged user with production
# dependencies only. Configure it with environment variables (see README, "Configuration");
# KAFKA_BROKERS is required in a container (the image carries no Kafka of its own).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, TypeScript → dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, compiled code, the contract and the demo policy ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8082 \
    SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing in the production tree needs one (and one only phones home).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY openapi.yaml ./
COPY config ./config
# The official Node image's unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
# 8082: the REST API; 8081: the embedded schema registry (SCHEMA_REGISTRY_PORT)
EXPOSE 8082 8081
# Liveness only (the process answers); orchestrators should also probe GET /readyz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8082)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1's only process and gets SIGTERM directly (graceful shutdown).
CMD ["node", "dist/main.js"]
