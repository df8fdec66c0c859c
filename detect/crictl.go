package detect

// crictl parses a crictl command line: to be written.
func (d *Detector) crictl(c *Command, args []string, f *Finding, h *hits) {}
