package detect

// composeCLI parses docker-compose / podman-compose as a standalone CLI.
func (d *Detector) composeCLI(c *Command, args []string, f *Finding, h *hits) {
	d.compose(c, f.Runtime, args, f, h)
}

// compose parses the arguments after "docker compose" (or of
// docker-compose): to be written.
func (d *Detector) compose(c *Command, name string, args []string, f *Finding, h *hits) {
	if len(args) > 0 {
		f.Action = "compose " + args[0]
	}
}

// kubePlay scores podman kube play FILE: to be written.
func (d *Detector) kubePlay(c *Command, args []string, f *Finding, h *hits) {}
