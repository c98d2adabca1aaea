# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
# libdeflate-dev and a C toolchain for the optional native addons native/libdeflate and native/sparse-file (scripts/build-native.mjs).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate-dev python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.dashboard.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY agent ./agent
COPY native-wasm ./native-wasm
COPY bin ./bin
COPY test ./test
COPY bench ./bench
COPY native ./native
COPY scripts/build-native.mjs scripts/build-dashboard.mjs ./scripts/
RUN node scripts/build-native.mjs && npx tsc -p tsconfig.json && node scripts/build-dashboard.mjs && npm prune --omit=dev \
  && mkdir -p native/libdeflate/build/Release native/sparse-file/build/Release

# Runtime stage: production dependencies and compiled output only, as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# libdeflate0: the shared library the native/libdeflate addon links against.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate0 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system vmxfer && useradd --system --gid vmxfer --home-dir /var/lib/vmxfer --shell /usr/sbin/nologin vmxfer \
  && mkdir -p /var/lib/vmxfer /images && chown vmxfer:vmxfer /var/lib/vmxfer && chmod 0700 /var/lib/vmxfer
WORKDIR /opt/vmxfer
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/agent ./dist/agent
COPY --from=build /src/dist/dashboard ./dist/dashboard
COPY --from=build /src/native-wasm ./native-wasm
COPY --from=build /src/native/libdeflate/build/Release ./native/libdeflate/build/Release
COPY --from=build /src/native/sparse-file/build/Release ./native/sparse-file/build/Release
COPY --from=build /src/bin ./bin
COPY config ./config
RUN ln -s /opt/vmxfer/bin/vmxfer.js /usr/local/bin/vmxfer
USER vmxfer
# The job store, checkpoints and a generated token survive the container; mount images under /images.
VOLUME ["/var/lib/vmxfer"]
EXPOSE 8740
# /healthz needs no token; node is the only tool the slim image is sure to have.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8740/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["vmxfer"]
# docker run -e VMXFER_TOKEN=... -p 127.0.0.1:8740:8740 -v vmxfer-state:/var/lib/vmxfer -v /srv/images:/images:ro IMAGE
CMD ["daemon", "--config", "/opt/vmxfer/config/container.yaml"]
