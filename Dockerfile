# understudy container image.
#
# Two stages: `build` installs every dependency, compiles TypeScript to dist/ and then drops the development
# dependencies; `runtime` gets the production node_modules (better-sqlite3's native module is built once, in
# `build`: npm ci fetches its prebuilt binary, or compiles it where python3, make and g++ are installed), the
# compiled code, the contracts and the chaos profiles, and runs as the unprivileged `node` user. The image listens
# on 0.0.0.0:8080, so the server insists on an admin token: pass it at run time,
#   docker run -p 8080:8080 -e UNDERSTUDY_ADMIN_TOKEN=... -v understudy-state:/app/data understudy
# It is never baked into the image. State is durable in /app/data (a volume: it outlives the container); back it up
# by copying the volume while the container is stopped.
#
# No Docker engine runs in CI: .ci/dockerfile-dry-run.mjs replays this file outside Docker (stages mapped to temp
# directories, RUN executed with bash). Keep RUN/COPY steps simple and relative to WORKDIR so that stays possible.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY contracts ./contracts
COPY chaos-profiles ./chaos-profiles
# the data directory, writable by whichever user runs the container (sticky, as /tmp)
RUN mkdir -p data && chmod 1777 data
ENV UNDERSTUDY_HOST=0.0.0.0 UNDERSTUDY_PORT=8080 UNDERSTUDY_DATA_DIR=/app/data
VOLUME /app/data
USER node
EXPOSE 8080
# slim images have no curl: probe with node's fetch, sending the admin token the server was started with
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const t = process.env.UNDERSTUDY_ADMIN_TOKEN; fetch('http://127.0.0.1:' + (process.env.UNDERSTUDY_PORT || 8080) + '/__admin/health', { headers: t ? { authorization: 'Bearer ' + t } : {}, signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli.js", "serve"]
