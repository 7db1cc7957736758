# Multi-stage build of the release binary.
#   docker build -t sqs-extended-proxy .
#   docker run --rm -p 9324:9324 -e AWS_REGION=us-east-1 -e SQS_PROXY_LISTEN=0.0.0.0:9324 sqs-extended-proxy

FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product sqs-extended-proxy --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/sqs-extended-proxy" /out/sqs-extended-proxy

# Runtime: the static Swift standard library is in the binary; libxml2 (FoundationXML) and the CA
# certificates (TLS to AWS) are not.
FROM ubuntu:noble
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libxml2 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home proxy
COPY --from=build /out/sqs-extended-proxy /usr/local/bin/sqs-extended-proxy
USER 10001
ENV SQS_PROXY_LISTEN=0.0.0.0:9324
EXPOSE 9324
ENTRYPOINT ["/usr/local/bin/sqs-extended-proxy"]
