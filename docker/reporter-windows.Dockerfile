# syntax=docker/dockerfile:1
# The Windows node reporter: a HostProcess container image (it runs on the host, as SYSTEM; the
# chart sets windowsOptions.hostProcess). The final stage has no RUN, so it builds on Linux with
# buildx:
#   docker buildx build --platform windows/amd64 -f docker/reporter-windows.Dockerfile \
#     -t ghcr.io/masq-dashboard/reporter:0.1.0-windows --push .
# The app is plain JavaScript, built on Linux; node.exe comes from the official Windows zip.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG NODE_WINDOWS_VERSION=20.20.2
ARG HOSTPROCESS_BASE=mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0

FROM --platform=linux/amd64 ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/node-util/package.json packages/node-util/
COPY apps/reporter/package.json apps/reporter/
COPY apps/dashboard/package.json apps/dashboard/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY packages/shared/ packages/shared/
COPY packages/node-util/ packages/node-util/
COPY apps/reporter/ apps/reporter/
RUN npm run build -w packages/shared && npm run build -w packages/node-util && npm run build -w apps/reporter
# A fresh production install; dereference the workspace symlinks (Windows image layers from a
# Linux builder should not carry symlinks).
RUN mkdir /out && rm -rf node_modules \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace apps/reporter \
 && rm -rf node_modules/@masq \
 && mkdir -p /out/app/node_modules/@masq \
 && cp -rL node_modules/. /out/app/node_modules/ \
 && for ws in packages/shared packages/node-util apps/reporter; do \
      name="$(node -p "require('./$ws/package.json').name.split('/')[1]")"; \
      mkdir -p "/out/app/node_modules/@masq/$name"; \
      cp -r "$ws/package.json" "$ws/dist" "/out/app/node_modules/@masq/$name/"; \
    done \
 && cp -r apps/reporter/bin /out/app/node_modules/@masq/reporter/

FROM --platform=linux/amd64 ${NODE_IMAGE} AS node-windows
ARG NODE_WINDOWS_VERSION
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && curl -fsSLo /tmp/node.zip "https://nodejs.org/dist/v${NODE_WINDOWS_VERSION}/node-v${NODE_WINDOWS_VERSION}-win-x64.zip" \
 && curl -fsSLo /tmp/SHASUMS256.txt "https://nodejs.org/dist/v${NODE_WINDOWS_VERSION}/SHASUMS256.txt" \
 && (cd /tmp && grep " node-v${NODE_WINDOWS_VERSION}-win-x64.zip\$" SHASUMS256.txt | sed 's/ node-.*/  node.zip/' | sha256sum -c -) \
 && unzip -q /tmp/node.zip -d /tmp \
 && mkdir -p /out && cp "/tmp/node-v${NODE_WINDOWS_VERSION}-win-x64/node.exe" /out/node.exe

FROM ${HOSTPROCESS_BASE}
COPY --from=node-windows /out/node.exe /ipmasq/node.exe
COPY --from=build /out/app /ipmasq/app
# HostProcess containers start in %CONTAINER_SANDBOX_MOUNT_POINT%, where the image is unpacked.
ENTRYPOINT ["ipmasq/node.exe", "ipmasq/app/node_modules/@masq/reporter/bin/ipmasq.js"]
CMD ["run"]
