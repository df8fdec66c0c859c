VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test bench fuzz clean

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o t1610d ./cmd/t1610d

test:
	go test ./...

# Throughput against go-libaudit, ausearch, and peak RSS on the busy-host log.
bench:
	scripts/bench.sh

# Each fuzz target for FUZZTIME (one at a time: the audit tests and the
# machine's two cores are shared).
FUZZTIME ?= 60s
fuzz:
	go test ./auditd -run '^$$' -fuzz '^FuzzParseRecord$$' -fuzztime $(FUZZTIME)
	go test ./auditd -run '^$$' -fuzz '^FuzzAssembler$$' -fuzztime $(FUZZTIME)
	go test ./detect -run '^$$' -fuzz '^FuzzDockerArgs$$' -fuzztime $(FUZZTIME)

clean:
	rm -f t1610d
