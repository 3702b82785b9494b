# Image for docker-compose's web and worker services (not used on the build machines here).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx next build
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
CMD ["node", "bin/tlsfleet", "start", "--no-build"]
