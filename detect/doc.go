// Package detect recognises container-runtime command lines, parses their
// arguments the way each runtime's own CLI does, and scores the options that
// hand a container the host (MITRE ATT&CK T1610): privileged mode, host
// namespaces, host and runtime-socket mounts, capabilities, disabled security
// profiles, devices, secrets in the environment. It also owns redaction:
// nothing it returns holds a secret in clear.
//
// Everything here is a pure function of argv, the executable's path and the
// working directory: no files, clocks or network.
package detect
