# One image for every component: module-controller <webhook|extender|bridge|module-deployment|broker|base-sim>.
#   docker build -t module-controller:0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm module-controller:0.1.0 webhook --help
# Two stages: `build` compiles the TypeScript to dist/ (scripts/build-dist.ts, as npm pack does);
# the runtime stage holds only package.json, the lockfile, the production dependencies and dist/ —
# no sources, sandbox, bench, tests or dev tools. test/packaging/dockerfile.test.ts keeps this file
# honest against the package's file list.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# Dev dependencies too (TypeScript); no install scripts: the image's own Node compiles.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-dist.ts ./scripts/
COPY cli ./cli
COPY core ./core
COPY webhook ./webhook
COPY extender ./extender
COPY bridge ./bridge
COPY broker ./broker
COPY moduledeployment ./moduledeployment
COPY base-sim ./base-sim
RUN node scripts/build-dist.ts

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=""
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="module-controller" \
      org.opencontainers.image.description="Run Koupleless modules on Koupleless bases with plain Kubernetes objects: admission webhook, scheduler extender and MQTT bridge." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-bookworm-slim"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json /src/.npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# distroless's nonroot uid: no shell user, nothing writable in /app.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
