# port-emulator and port-consumer (one binary, installed under both names), built once, run from a slim Debian image as a non-root user.
#   docker build -t port-kafka-harness .
#   docker run --rm -p 5100:5100 port-kafka-harness port-emulator serve --host 0.0.0.0
FROM swift:6.1-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka-dev libmicrohttpd-dev libjq-dev libyaml-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve the dependencies in their own layer, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product port-emulator \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)/port-emulator" /out/

FROM debian:bookworm-slim
# The C libraries at run time; bash and ca-certificates for handler scripts and TLS.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libmicrohttpd12 libjq1 libyaml-0-2 ca-certificates bash \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 port
COPY --from=build /out/port-emulator /usr/local/bin/
RUN ln -s port-emulator /usr/local/bin/port-consumer
COPY --chown=port:port fixtures /app/fixtures
WORKDIR /app
USER port
# Port's API, then the embedded Kafka's PLAINTEXT and SASL_SSL listeners (fixed ports, so that
# they can be published; clients outside the container need --kafka-advertised-host).
EXPOSE 5100 9092 9093
CMD ["port-emulator", "serve", "--host", "0.0.0.0", "--port", "5100", "--kafka-port", "9092", "--fixtures", "/app/fixtures"]
