# syntax=docker/dockerfile:1
# The djcast API server (and job worker: `djcast-server worker`). Build from the
# repository root:
#   docker build -f deploy/docker/server.Dockerfile -t djcast/server .

FROM node:24-slim AS build
WORKDIR /src
# Toolchain for native modules (better-sqlite3, argon2) when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
RUN corepack enable
COPY . .
RUN pnpm install --frozen-lockfile --filter @djcast/server... \
 && pnpm --filter @djcast/server... run build \
 && pnpm --filter @djcast/server deploy --legacy --prod /out

FROM node:24-slim
# ffmpeg/ffprobe for uploads, and for relay workers run as child processes
# when the server is not using the Kubernetes launcher.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 djcast \
 && useradd --system --uid 10001 --gid djcast --home-dir /var/lib/djcast --no-create-home --shell /usr/sbin/nologin djcast \
 && install -d -o 10001 -g 10001 /var/lib/djcast
WORKDIR /app
COPY --from=build /out /app
ENV NODE_ENV=production \
    DJCAST_HOST=0.0.0.0 \
    DJCAST_PORT=8787 \
    DJCAST_DATA_DIR=/var/lib/djcast
EXPOSE 8787
VOLUME ["/var/lib/djcast"]
USER 10001:10001
ENTRYPOINT ["node", "/app/dist/main.js"]
