# One image for every component: module-controller <webhook|extender|bridge|broker|base-sim>.
# Node 24 runs the TypeScript sources directly (type stripping); no build step.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY core ./core
COPY cli ./cli
COPY webhook ./webhook
COPY extender ./extender
COPY bridge ./bridge
COPY broker ./broker
COPY base-sim ./base-sim
COPY sandbox ./sandbox
USER 65532:65532
ENTRYPOINT ["node", "/app/cli/main.ts"]
