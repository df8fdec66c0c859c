package detect

// ctrGlobalFlags: cmd/ctr/app/main.go (app.Flags, and the cli.HelpFlag/cli.VersionFlag
// overrides there); containerd/containerd@301026e58c61 (v2.4.0-beta.0+70, main; urfave/cli v2.27.7).
// urfave/cli v2 parses with Go's flag package: -name and --name are the same for
// every name and alias, no clustering (ctr sets no UseShortOptionHandling), values as
// -n x, -n=x, --n x; booleans only take -flag=false; the first non-flag ends the
// options. Root-only: parent flags are not inherited by subcommands. k3s ctr and
// microk8s ctr are this same app (only defaults/prepended args differ).
// Every subcommand also gets a help|h subcommand: ctr run help / ctr run h print help.
var ctrGlobalFlags = newFlagSet(
	"address|a=",
	"connect-timeout=",
	"debug",
	"help|h",
	"namespace|n=",
	"timeout=",
	"version|v",
)

// ctrRunFlags: cmd/ctr/commands/run/run.go (local flags), run_unix.go (platformRunFlags),
// commands/commands.go + commands_unix.go (RuntimeFlags, SnapshotterFlags, SnapshotterLabels,
// ContainerFlags), plus the per-command help|h that urfave/cli appends; containerd/containerd@301026e58c61 (v2.4.0-beta.0+70, main; urfave/cli v2.27.7).
// Unix build. Windows builds instead have isolated, scrub-logs (run) and cpu-count=,
// cpu-max= in ContainerFlags, and lack uidmap..rlimit-nofile, rootfs, no-pivot,
// cpu-quota, cpu-period, rootfs-propagation and the runc-* flags.
// New in 2.4 (absent in v2.3.4): sync-fs, dump-config, rlimit-nofile.
// Positionals: IMAGE ID [COMMAND [ARG...]]; with --rootfs the first is a host path used
// as the rootfs; with --config (-c) only ID (spec comes from the file).
var ctrRunFlags = newFlagSet(
	"allow-new-privs",
	"annotation=",
	"apparmor-default-profile=",
	"apparmor-profile=",
	"blockio-class=",
	"blockio-config-file=",
	"cap-add=",
	"cap-drop=",
	"cgroup=",
	"cni",
	"config|c=",
	"cpu-period=",
	"cpu-quota=",
	"cpu-shares=",
	"cpus=",
	"cpuset-cpus=",
	"cpuset-mems=",
	"cwd=",
	"detach|d",
	"device=",
	"dump-config=",
	"env-file=",
	"env=",
	"fifo-dir=",
	"gidmap=",
	"gpus=",
	"help|h",
	"hostname=",
	"label=",
	"log-uri=",
	"memory-limit=",
	"mount=",
	"net-host",
	"no-pivot",
	"null-io",
	"pid-file=",
	"platform=",
	"privileged",
	"privileged-without-host-devices",
	"rdt-class=",
	"read-only",
	"remap-labels",
	"rlimit-nofile=",
	"rm",
	"rootfs",
	"rootfs-propagation=",
	"runc-binary=",
	"runc-root=",
	"runc-systemd-cgroup",
	"runtime-config-path=",
	"runtime=",
	"sandbox=",
	"seccomp",
	"seccomp-profile=",
	"snapshotter-label=",
	"snapshotter=",
	"sync-fs",
	"tty|t",
	"uidmap=",
	"user|u=",
	"with-ns=",
)

// ctrContainerCreateFlags: cmd/ctr/commands/containers/containers.go (createCommand:
// RuntimeFlags, SnapshotterFlags, SnapshotterLabels, ContainerFlags) and
// commands/commands.go + commands_unix.go; containerd/containerd@301026e58c61 (v2.4.0-beta.0+70, main; urfave/cli v2.27.7).
// Unix build. Unlike run: no platformRunFlags (so no privileged-without-host-devices,
// cpus, cpu-shares, uidmap...) and no rm/detach/cni/null-io/log-uri/fifo-dir/cgroup/platform.
// Reached as ctr containers|container|c create. Positionals as for run.
var ctrContainerCreateFlags = newFlagSet(
	"allow-new-privs",
	"annotation=",
	"apparmor-default-profile=",
	"apparmor-profile=",
	"blockio-class=",
	"blockio-config-file=",
	"cap-add=",
	"cap-drop=",
	"config|c=",
	"cpu-period=",
	"cpu-quota=",
	"cwd=",
	"device=",
	"env-file=",
	"env=",
	"gpus=",
	"help|h",
	"hostname=",
	"label=",
	"memory-limit=",
	"mount=",
	"net-host",
	"no-pivot",
	"pid-file=",
	"privileged",
	"rdt-class=",
	"read-only",
	"rootfs",
	"rootfs-propagation=",
	"runc-binary=",
	"runc-root=",
	"runc-systemd-cgroup",
	"runtime-config-path=",
	"runtime=",
	"sandbox=",
	"seccomp",
	"seccomp-profile=",
	"snapshotter-label=",
	"snapshotter=",
	"tty|t",
	"user|u=",
	"with-ns=",
)
