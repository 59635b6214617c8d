# xline: admin API + SIP app on Node 24 LTS (the version CI runs the suite on as well; keep the
# two in step: .ci/run NODE24_VERSION). drachtio-server, FreeSWITCH and Redis run in their own
# containers (see docker-compose.yml).
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
RUN npm run build && npm prune --omit=dev

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Named volumes start with the ownership of these directories.
RUN mkdir -p /var/lib/xline/recordings /var/lib/xline/ring-tones && chown -R node:node /var/lib/xline
USER node
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/main.js"]
