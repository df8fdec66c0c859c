VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: build test bench fuzz clean package package-test

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o t1610d ./cmd/t1610d

test:
	go test ./...

# Throughput against go-libaudit, ausearch, and peak RSS on the busy-host log.
bench:
	scripts/bench.sh

# Each fuzz target for FUZZTIME, one at a time (the machine's two cores are
# shared with the audit tests).
FUZZTIME ?= 60s
FUZZ_AUDITD := FuzzParseRecord FuzzAssembler FuzzArgvRoundTrip
FUZZ_DETECT := FuzzDockerArgs FuzzFlagSetMatchesPflag FuzzKubectlArgs FuzzOverrides FuzzManifests FuzzCtrArgs FuzzCRIConfig FuzzCrictlArgs FuzzComposeFile FuzzComposeArgs
fuzz:
	for f in $(FUZZ_AUDITD); do go test ./auditd -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; done
	for f in $(FUZZ_DETECT); do go test ./detect -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; done

# dist/*.deb and dist/*.rpm for each of PKG_ARCHS, cross-built without cgo,
# with nfpm (pinned in packaging/tools/go.mod). The package version comes
# from git describe (packaging/version.sh).
PKG_ARCHS ?= amd64 arm64
PKG_VERSION ?= $(shell packaging/version.sh)
NFPM := dist/tools/nfpm

package:
	rm -rf dist/build dist/*.deb dist/*.rpm && mkdir -p dist/build dist/tools
	cd packaging/tools && go build -o ../../$(NFPM) github.com/goreleaser/nfpm/v2/cmd/nfpm
	go run ./cmd/t1610d rules > dist/build/60-t1610d.rules
	set -e; for arch in $(PKG_ARCHS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags '$(LDFLAGS)' \
	    -o dist/build/linux-$$arch/t1610d ./cmd/t1610d; \
	  for p in deb rpm; do \
	    GOARCH=$$arch PKG_VERSION='$(PKG_VERSION)' $(NFPM) package --config packaging/nfpm.yaml \
	      --packager $$p --target dist/; \
	  done; \
	done
	ls -l dist/*.deb dist/*.rpm

# Build the packages, then install, upgrade, remove and purge the .deb on this
# machine (root; see packaging/test.sh: it changes the system).
package-test:
	packaging/test.sh

clean:
	rm -rf t1610d dist
