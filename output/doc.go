// Package output turns what the detector found into records and writes them:
// the encoders (native, the seed rule's projection plus t1610d's fields) and,
// as they arrive, the sinks. Encoders redact every command line they emit.
package output
