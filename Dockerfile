# syntax=docker/dockerfile:1
# Build stage: the npm package (npm pack runs prepack: native addons, TypeScript, dashboard), then that package
# installed under /opt/vmxfer with its production dependencies, as on a host (README "Install").
# Node 26 is the Active LTS line (2026-10-28 to 2027-10-20); engines in package.json lists the lines tested.
FROM node:26-trixie-slim AS build
# libdeflate-dev and a C toolchain for the optional native addons native/libdeflate and native/sparse-file (scripts/build-native.mjs).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate-dev python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.dashboard.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY agent ./agent
COPY bin ./bin
COPY native ./native
COPY native-wasm ./native-wasm
COPY config ./config
COPY docs ./docs
COPY README.md LICENSE ./
COPY scripts/build-native.mjs scripts/build-dashboard.mjs ./scripts/
RUN npm pack --pack-destination /pkg
# npm ci in the unpacked package: the locked production dependencies, and its install script builds the addons.
RUN mkdir -p /opt/vmxfer && tar -xzf /pkg/vmxfer-*.tgz -C /opt/vmxfer --strip-components=1 \
  && cp package-lock.json /opt/vmxfer/ && cd /opt/vmxfer && npm ci --omit=dev --no-audit --no-fund --foreground-scripts

# Runtime stage: the installed package only, as a non-root user.
FROM node:26-trixie-slim
ENV NODE_ENV=production
# libdeflate0: the shared library the native/libdeflate addon links against.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libdeflate0 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system vmxfer && useradd --system --gid vmxfer --home-dir /var/lib/vmxfer --shell /usr/sbin/nologin vmxfer \
  && mkdir -p /var/lib/vmxfer /images && chown vmxfer:vmxfer /var/lib/vmxfer && chmod 0700 /var/lib/vmxfer
COPY --from=build /opt/vmxfer /opt/vmxfer
RUN ln -s /opt/vmxfer/bin/vmxfer.js /usr/local/bin/vmxfer
USER vmxfer
# The job store, checkpoints and a generated token survive the container; mount images under /images.
VOLUME ["/var/lib/vmxfer"]
EXPOSE 8740
# /healthz needs no token; vmxfer health reads the same configuration as the daemon (port, TLS).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["vmxfer", "health", "--config", "/opt/vmxfer/config/container.yaml"]
ENTRYPOINT ["vmxfer"]
# docker run -e VMXFER_TOKEN=... -p 127.0.0.1:8740:8740 -v vmxfer-state:/var/lib/vmxfer -v /srv/images:/images:ro IMAGE
CMD ["daemon", "--config", "/opt/vmxfer/config/container.yaml"]
