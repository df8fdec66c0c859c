package detect

// kubectlGlobalFlags: persistent flags of the root command. pkg/cmd/cmd.go (warnings-as-errors,
// defaultConfigFlags = NewConfigFlags(true).WithDeprecatedPasswordFlag()), pkg/cmd/profiling.go
// (profile, profile-output), pkg/kuberc/kuberc.go (kuberc; absent when KUBECTL_KUBERC=false),
// pkg/cmd/util/kubectl_match_version.go (match-server-version) in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0);
// pkg/genericclioptions/config_flags.go (ConfigFlags.AddFlags) in kubernetes/cli-runtime@69e8693b2560;
// cli/run.go + logs/logs.go + logs/klogflags (v, vmodule, log-flush-frequency) in kubernetes/component-base@349fbe06359c.
// help|h is cobra's per-command help flag. klog's v is a Go flag lifted by pflag.PFlagFromGoFlag,
// which gives one-letter names the same shorthand: -v 5, -v=5, --v=5.
// Persistent: valid before or after the subcommand, interspersed with positionals.
// Flag names are normalized '_' -> '-' (cliflag.WordSepNormalizeFunc): --dry_run == --dry-run.
// In kubectl debug a local --profile (debug profile) shadows the global one.
var kubectlGlobalFlags = newFlagSet(
	"as-group=",
	"as-uid=",
	"as-user-extra=",
	"as=",
	"cache-dir=",
	"certificate-authority=",
	"client-certificate=",
	"client-key=",
	"cluster=",
	"context=",
	"disable-compression",
	"help|h",
	"insecure-skip-tls-verify",
	"kubeconfig=",
	"kuberc=",
	"log-flush-frequency=",
	"match-server-version",
	"namespace|n=",
	"password=",
	"profile-output=",
	"profile=",
	"request-timeout=",
	"server|s=",
	"tls-server-name=",
	"token=",
	"user=",
	"username=",
	"vmodule=",
	"v|v=",
	"warnings-as-errors",
)

// kubectlRunFlags: pkg/cmd/run/run.go (NewCmdRun, addRunFlags), pkg/cmd/delete/delete_flags.go
// (NewDeleteFlags: filename/kustomize/recursive, cascade, grace-period, force, timeout, wait),
// pkg/cmd/util/helpers.go (dry-run, field-manager, save-config, pod-running-timeout),
// pkg/cmd/util/override_options.go (overrides, override-type) in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0);
// genericclioptions print_flags.go, json_yaml_flags.go, kube_template_flags.go, record_flags.go
// in kubernetes/cli-runtime@69e8693b2560. Local flags only (plus kubectlGlobalFlags).
// NoOptDefVal: dry-run (bare = "unchanged", treated as client, i.e. nothing is created),
// cascade ("background"). -f/--filename is deprecated and ignored by run. --record deprecated.
// Removed in 1.24 and absent here: --serviceaccount, --hostport, --requests, --limits.
// Positionals: NAME [ARG...]; everything after NAME (before or after --) is the container's
// args, or its command with --command.
var kubectlRunFlags = newFlagSet(
	"allow-missing-template-keys",
	"annotations=",
	"attach",
	"cascade?",
	"command",
	"detach-keys=",
	"dry-run?",
	"env=",
	"expose",
	"field-manager=",
	"filename|f=",
	"force",
	"grace-period=",
	"help|h",
	"image-pull-policy=",
	"image=",
	"kustomize|k=",
	"labels|l=",
	"leave-stdin-open",
	"output|o=",
	"override-type=",
	"overrides=",
	"pod-running-timeout=",
	"port=",
	"privileged",
	"quiet|q",
	"record",
	"recursive|R",
	"restart=",
	"rm",
	"save-config",
	"show-managed-fields",
	"stdin|i",
	"template=",
	"timeout=",
	"tty|t",
	"wait",
)

// kubectlDebugFlags: pkg/cmd/debug/debug.go (DebugOptions.AddFlags) and
// pkg/cmd/util/helpers.go (AddJsonFilenameFlag: filename|f only, no -k/-R) in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0).
// --profile default: general since kubectl 1.36 (legacy up to 1.35, legacy now deprecated).
// No dry-run/output flags. Positionals: TARGET... [-- COMMAND [ARG...]]; without -- every
// positional is a target (pod name, pod/NAME, node/NAME), never the command.
var kubectlDebugFlags = newFlagSet(
	"arguments-only",
	"attach",
	"container|c=",
	"copy-to=",
	"custom=",
	"env=",
	"filename|f=",
	"help|h",
	"image-pull-policy=",
	"image=",
	"keep-annotations",
	"keep-init-containers",
	"keep-labels",
	"keep-liveness",
	"keep-readiness",
	"keep-startup",
	"profile=",
	"quiet|q",
	"replace",
	"same-node",
	"set-image=",
	"share-processes",
	"stdin|i",
	"target=",
	"tty|t",
)

// kubectlApplyFlags: pkg/cmd/apply/apply.go (ApplyFlags.AddFlags), pkg/cmd/delete/delete_flags.go
// (NewDeleteFlags), pkg/cmd/util/helpers.go (validate, dry-run, server-side, force-conflicts,
// field-manager, selector, prune, prune-allowlist, all, applyset, subresource) in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0);
// genericclioptions print/record flags in kubernetes/cli-runtime@69e8693b2560.
// NoOptDefVal: dry-run ("unchanged"), validate ("strict"), cascade ("background").
// applyset exists only with KUBECTL_APPLYSET=true. Subcommands: view-last-applied,
// set-last-applied, edit-last-applied.
var kubectlApplyFlags = newFlagSet(
	"all",
	"allow-missing-template-keys",
	"applyset=",
	"cascade?",
	"dry-run?",
	"field-manager=",
	"filename|f=",
	"force",
	"force-conflicts",
	"grace-period=",
	"help|h",
	"kustomize|k=",
	"openapi-patch",
	"output|o=",
	"overwrite",
	"prune",
	"prune-allowlist=",
	"record",
	"recursive|R",
	"selector|l=",
	"server-side",
	"show-managed-fields",
	"subresource=",
	"template=",
	"timeout=",
	"validate?",
	"wait",
)

// kubectlCreateFlags: pkg/cmd/create/create.go (NewCmdCreate) and pkg/cmd/util/helpers.go
// (AddFilenameOptionFlags, validate, save-config, dry-run, selector, field-manager) in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0);
// genericclioptions print/record flags in kubernetes/cli-runtime@69e8693b2560. The create -f form only: the
// generator subcommands (deployment|deploy, job, cronjob|cj, ...) have their own flags.
// NoOptDefVal: dry-run ("unchanged"), validate ("strict").
var kubectlCreateFlags = newFlagSet(
	"allow-missing-template-keys",
	"dry-run?",
	"edit",
	"field-manager=",
	"filename|f=",
	"help|h",
	"kustomize|k=",
	"output|o=",
	"raw=",
	"record",
	"recursive|R",
	"save-config",
	"selector|l=",
	"show-managed-fields",
	"template=",
	"validate?",
	"windows-line-endings",
)

// kubectlReplaceFlags: pkg/cmd/replace/replace.go (NewCmdReplace; its RecordFlags is nil, so
// no --record), pkg/cmd/delete/delete_flags.go (NewDeleteFlags), pkg/cmd/util/helpers.go in kubernetes/kubectl@dee3483a3d6a (staging k8s.io/kubectl, post v0.37.0-beta.0);
// genericclioptions print flags in kubernetes/cli-runtime@69e8693b2560.
// NoOptDefVal: dry-run ("unchanged"), validate ("strict"), cascade ("background").
var kubectlReplaceFlags = newFlagSet(
	"allow-missing-template-keys",
	"cascade?",
	"dry-run?",
	"field-manager=",
	"filename|f=",
	"force",
	"grace-period=",
	"help|h",
	"kustomize|k=",
	"output|o=",
	"raw=",
	"recursive|R",
	"save-config",
	"show-managed-fields",
	"subresource=",
	"template=",
	"timeout=",
	"validate?",
	"wait",
)
