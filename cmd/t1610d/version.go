package main

import (
	"fmt"
	"io"
	"runtime"
)

// version is set at build time: -ldflags "-X main.version=$(git describe)".
var version = "dev"

func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "t1610d %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
