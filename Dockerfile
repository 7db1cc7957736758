# Multi-stage build: the release binary on the official Swift image, then a slim runtime image.
#   docker build -t sqs-extended-proxy .
#   docker run --rm -p 9324:9324 -p 9325:9325 -e AWS_REGION=us-east-1 -e SQS_PROXY_BUCKET=my-bucket \
#     -e AWS_ACCESS_KEY_ID=... -e AWS_SECRET_ACCESS_KEY=... sqs-extended-proxy
# Every setting is an environment variable SQS_PROXY_<NAME> (README, "Settings").

FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts/build-release ./scripts/
# Linked with the Swift runtime and libstdc++ statically, start-up code laid out together, and
# stripped of its symbols (the image's binary needs neither the toolchain's libraries nor debug
# information).
RUN install -D -s "$(scripts/build-release .build)" /out/sqs-extended-proxy

# Runtime: the Swift runtime, Foundation and libstdc++ are in the binary; only the CA certificates
# (TLS to AWS, verified against the system trust store) are not. The binary's packed relocations
# need glibc 2.36 or later (noble has 2.39).
FROM ubuntu:noble
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home proxy
COPY --from=build /out/sqs-extended-proxy /usr/local/bin/sqs-extended-proxy
USER 10001
# In a container the listeners bind every interface: the application (another container of the
# pod or task) and the orchestrator's probes reach them over the network namespace.
ENV SQS_PROXY_LISTEN=0.0.0.0:9324 \
    SQS_PROXY_ADMIN_LISTEN=0.0.0.0:9325 \
    SQS_PROXY_LOG_FORMAT=json
EXPOSE 9324 9325
# The binary asks its own admin listener: the runtime image needs no curl.
HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/sqs-extended-proxy", "--health-check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sqs-extended-proxy"]
