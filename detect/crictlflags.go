package detect

// crictlGlobalFlags: cmd/crictl/main.go (app.Flags) plus urfave/cli's default
// help|h and version|v; kubernetes-sigs/cri-tools@ba03eabc1450 (v1.36.0+196, master; urfave/cli v2.27.7).
// Root-only (valid before the subcommand). Go flag package rules: -name == --name,
// no clustering at the root (the app sets no UseShortOptionHandling).
// Note -r here is --runtime-endpoint, while after run/runp -r is --runtime.
var crictlGlobalFlags = newFlagSet(
	"config|c=",
	"debug|D",
	"enable-tracing",
	"help|h",
	"image-endpoint|i=",
	"max-retries=",
	"profile-cpu=",
	"profile-mem=",
	"runtime-endpoint|r=",
	"timeout|t=",
	"tracing-endpoint=",
	"tracing-sampling-rate-per-million=",
	"version|v",
)

// crictlRunFlags: cmd/crictl/container.go (runContainerCommand: runPullFlags =
// no-pull, with-pull, cancelTimeoutFlag, pullFlags, runtime) and cmd/crictl/image.go
// (pullFlags, cancelTimeoutFlag), plus help|h; kubernetes-sigs/cri-tools@ba03eabc1450 (v1.36.0+196, master; urfave/cli v2.27.7).
// No UseShortOptionHandling on run (no -it style clustering).
// Positionals: CONTAINER-CONFIG POD-CONFIG (exactly 2); a first positional
// jsonschema|js or help|h is a subcommand instead.
var crictlRunFlags = newFlagSet(
	"auth=",
	"cancel-timeout|T=",
	"creds=",
	"help|h",
	"no-pull",
	"pull-timeout|pt=",
	"runtime|r=",
	"username|u=",
	"with-pull",
)

// crictlCreateFlags: cmd/crictl/container.go (createContainerCommand: createPullFlags =
// no-pull, with-pull, cancelTimeoutFlag, pullFlags) and cmd/crictl/image.go, plus help|h;
// kubernetes-sigs/cri-tools@ba03eabc1450 (v1.36.0+196, master; urfave/cli v2.27.7).
// No UseShortOptionHandling. Positionals: POD-ID CONTAINER-CONFIG POD-CONFIG (exactly 3);
// a first positional jsonschema|js or help|h is a subcommand instead.
var crictlCreateFlags = newFlagSet(
	"auth=",
	"cancel-timeout|T=",
	"creds=",
	"help|h",
	"no-pull",
	"pull-timeout|pt=",
	"username|u=",
	"with-pull",
)

// crictlRunpFlags: cmd/crictl/sandbox.go (runPodCommand), plus help|h; kubernetes-sigs/cri-tools@ba03eabc1450 (v1.36.0+196, master; urfave/cli v2.27.7).
// No UseShortOptionHandling. Positionals: POD-CONFIG (exactly 1); a first positional
// jsonschema|js or help|h is a subcommand instead.
var crictlRunpFlags = newFlagSet(
	"cancel-timeout|T=",
	"help|h",
	"runtime|r=",
)
