# syntax=docker/dockerfile:1
# The relay worker image (one per live stream, started by the server's
# Kubernetes launcher). Build from the repository root:
#   docker build -f deploy/docker/relay.Dockerfile -t djcast/relay .

FROM node:24-slim AS build
WORKDIR /src
# pnpm at the version package.json pins (packageManager).
RUN corepack enable
COPY . .
RUN pnpm install --frozen-lockfile --filter @djcast/relay... \
 && pnpm --filter @djcast/relay run build \
 && pnpm --filter @djcast/relay deploy --legacy --prod /out

FROM node:24-slim
# FFmpeg from Debian does the transcoding; ca-certificates for HTTPS sources and S3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 djcast \
 && useradd --system --uid 10001 --gid djcast --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin djcast
WORKDIR /app
COPY --from=build /out /app
RUN printf '#!/bin/sh\nexec node /app/dist/main.js "$@"\n' > /usr/local/bin/djcast-relay \
 && chmod 0755 /usr/local/bin/djcast-relay
ENV NODE_ENV=production \
    DJCAST_RELAY_PORT=9464
# /healthz and /metrics
EXPOSE 9464
# Numeric, so Kubernetes can verify runAsNonRoot. The root filesystem may be
# read-only: the worker writes only under /tmp (an emptyDir in the Pod).
USER 10001:10001
ENTRYPOINT ["djcast-relay"]
