# syntax=docker/dockerfile:1
# edlake container image.
#
#   docker build -t edlake:0.1.0 --build-arg VERSION=0.1.0 .     (BuildKit: Docker >= 23 default)
#   docker run --rm edlake:0.1.0 --version                      prints "edlake 0.1.0"
#   docker run --rm -v "$PWD/edlake.toml:/etc/edlake/edlake.toml:ro" edlake:0.1.0 config
#
# The ENTRYPOINT is edlake itself, so arguments after the image name are edlake arguments
# (`--version`, `check`, `run --once`, ...); with none it runs the daemon (`run`).
# Deployment examples: deploy/k8s (CronJob, LMS sidecar) and deploy/compose (next to Tutor).

# ---------------------------------------------------------------------------- build
# The toolchain the project is built and tested with; Cargo.toml's rust-version (1.94.1, what
# the locked AWS SDK crates require) is the oldest that works.
# Bookworm, like the runtime image, so the binary needs no newer glibc than it has.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Only what cargo needs: editing docs or deploy files does not invalidate this stage.
# aws-lc-sys (rustls' crypto for the AWS SDK) is compiled from C with the cc crate: the slim
# image's gcc and libc6-dev suffice (no cmake, no OpenSSL: Cargo.lock has no native-tls).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cache mounts keep the crates.io download and the incremental target dir between builds.
# A cache mount is not part of the image, so the binary is copied out of it in the same RUN.
# --locked: build exactly the reviewed Cargo.lock, fail rather than resolve anew.
# --profile dist (Cargo.toml): release without debug info and symbols, since every CronJob
# pod pulls the image. Backtraces with function names and lines: build the release profile.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --profile dist --locked --bin edlake \
    && install -D -m 0755 target/dist/edlake /out/edlake

# ---------------------------------------------------------------------------- runtime
# distroless cc: glibc + libgcc_s (what the binary links), tzdata, and the CA bundle
# /etc/ssl/certs/ca-certificates.crt, which the AWS SDK reads through rustls-native-certs.
# MySQL (sqlx) and MongoDB TLS use the Mozilla roots compiled in (webpki-roots).
# No shell and no package manager: nothing to exec into, little to patch.
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="edlake" \
      org.opencontainers.image.description="Open edX datalake extractor: MySQL tables, course structures and tracking logs to a Panorama-layout lake on S3" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="AGPL-3.0-only" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=build /out/edlake /usr/local/bin/edlake

# The config is site-specific: mount it here (ConfigMap, compose bind mount). Any key can
# also be set as EDLAKE_<KEY> (EDLAKE_MYSQL__PASSWORD, EDLAKE_DATALAKE__URL, ...).
ENV EDLAKE_CONFIG=/etc/edlake/edlake.toml

# uid/gid 1000 (not distroless' 65532): Tutor's openedx image runs the LMS as 1000:1000, and
# shipping tracking logs renames the LMS's tracking.log, which needs the same owner. Numeric,
# so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# /healthz, /readyz, /metrics of `edlake run` ([http] listen, default 0.0.0.0:9090).
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/edlake"]
CMD ["run"]
