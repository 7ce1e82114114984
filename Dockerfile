# Build and run the three programs on Debian 12, as the Makefile does.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	make gcc pkg-config libc6-dev libpq-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev \
	libxlsxwriter-dev libzip-dev libxml2-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# the image needs only the programs: skip the package check meant for hosts
RUN mkdir -p build && touch build/deps.stamp && make -j"$(nproc)" all

FROM debian:12
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	libpq5 libmicrohttpd12 libjansson4 libcurl4 libxlsxwriter4 libzip4 libxml2 \
	gnuplot-nox pandoc poppler-utils \
	fonts-dejavu-core fonts-noto-core fonts-noto-cjk curl ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --no-create-home workplan
COPY --from=build /src/bin/ /usr/local/bin/
USER workplan
ENV WORKPLAN_LISTEN=0.0.0.0:8080
EXPOSE 8080
CMD ["workplan-api"]
