# syntax=docker/dockerfile:1
# The verifier's and the host relay's container images, from this repository:
#
#   docker build --target verifier -t veritee-verifier .
#   docker build --target host -t veritee-host .
#
# Pinned base (by digest), production dependencies only, a non-root user, and
# nothing written at run time but the verifier's data volume, so the image
# runs with a read-only root filesystem (docker run --read-only; the fleet
# stack sets it). test/dockerfile.test.ts checks this file and its context.
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json .npmrc tsconfig.base.json ./
COPY attestations/package.json attestations/
COPY http/package.json http/
COPY service/package.json service/
COPY kds/package.json kds/
COPY enclave/package.json enclave/
COPY verifier/package.json verifier/
COPY host/package.json host/
COPY client/package.json client/
COPY infra/package.json infra/
COPY cli/package.json cli/
COPY mock/package.json mock/
COPY test/package.json test/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY attestations/ attestations/
COPY http/ http/
COPY service/ service/
COPY kds/ kds/
COPY verifier/ verifier/
COPY host/ host/
RUN npx tsc --build verifier host
# Only what the two services run, production dependencies only, native parts built.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    --workspace @veritee/verifier --workspace @veritee/host \
  && npm rebuild better-sqlite3

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /opt/veritee
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/attestations/package.json attestations/
COPY --from=build /src/attestations/dist/ attestations/dist/
COPY --from=build /src/http/package.json http/
COPY --from=build /src/http/dist/ http/dist/
COPY --from=build /src/service/package.json service/
COPY --from=build /src/service/dist/ service/dist/
COPY --from=build /src/kds/package.json kds/
COPY --from=build /src/kds/dist/ kds/dist/
USER node

FROM runtime AS host
EXPOSE 7000
COPY --from=build /src/host/package.json host/
COPY --from=build /src/host/dist/ host/dist/
ENTRYPOINT ["node", "host/dist/main.js"]

FROM runtime AS verifier
# The data directory (SQLite log, keys) is a volume: the only place written.
ENV VERITEE_VERIFIER_DATA=/var/lib/veritee VERITEE_HOME=/var/lib/veritee
USER root
RUN install -d -o node -g node -m 700 /var/lib/veritee
USER node
VOLUME ["/var/lib/veritee"]
EXPOSE 7003
COPY --from=build /src/verifier/package.json verifier/
COPY --from=build /src/verifier/dist/ verifier/dist/
ENTRYPOINT ["node", "verifier/dist/main.js"]
