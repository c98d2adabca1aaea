# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-bookworm-slim AS build
# libdeflate-dev and a C toolchain for the optional native/libdeflate addon (scripts/build-native.mjs).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate-dev python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY agent ./agent
COPY native-wasm ./native-wasm
COPY bin ./bin
COPY test ./test
COPY bench ./bench
COPY native ./native
COPY scripts/build-native.mjs ./scripts/
RUN node scripts/build-native.mjs && npx tsc -p tsconfig.json && npm prune --omit=dev \
  && mkdir -p native/libdeflate/build/Release

# Runtime stage: production dependencies and compiled output only, as a non-root user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
# libdeflate0: the shared library the native/libdeflate addon links against.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate0 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system vmxfer && useradd --system --gid vmxfer --home-dir /var/lib/vmxfer --shell /usr/sbin/nologin vmxfer \
  && mkdir -p /var/lib/vmxfer && chown vmxfer:vmxfer /var/lib/vmxfer
WORKDIR /opt/vmxfer
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/agent ./dist/agent
COPY --from=build /src/native-wasm ./native-wasm
COPY --from=build /src/native/libdeflate/build/Release ./native/libdeflate/build/Release
COPY --from=build /src/bin ./bin
COPY config ./config
RUN ln -s /opt/vmxfer/bin/vmxfer.js /usr/local/bin/vmxfer
USER vmxfer
VOLUME ["/var/lib/vmxfer"]
ENTRYPOINT ["vmxfer"]
CMD ["--help"]
