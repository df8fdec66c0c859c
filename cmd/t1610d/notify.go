package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// notifier speaks systemd's notify protocol (sd_notify(3)): datagrams of
// newline-separated KEY=VALUE assignments sent to the unix socket named by
// $NOTIFY_SOCKET (a path, or an abstract name starting with @). The unit is
// Type=notify with WatchdogSec=, so the service manager waits for READY=1,
// shows RELOADING=1 until the next READY=1, and restarts the daemon when
// WATCHDOG=1 stops arriving. Outside systemd (no NOTIFY_SOCKET) every call
// is a no-op.
type notifier struct {
	addr     *net.UnixAddr // nil: not run by a service manager
	watchdog time.Duration // WATCHDOG_USEC for this process; 0: no watchdog
	stopOnce sync.Once
}

// newNotifier reads the environment the service manager set.
func newNotifier() *notifier {
	n := &notifier{}
	if s := os.Getenv("NOTIFY_SOCKET"); s != "" && (s[0] == '/' || s[0] == '@') {
		n.addr = &net.UnixAddr{Name: s, Net: "unixgram"}
	}
	if us, err := strconv.ParseUint(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && us > 0 {
		// WATCHDOG_PID, when set, names the process the watchdog is for.
		if p := os.Getenv("WATCHDOG_PID"); p == "" || p == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(us) * time.Microsecond
		}
	}
	return n
}

// send writes one notification. It returns nil when there is no service
// manager to tell.
func (n *notifier) send(state string) error {
	if n == nil || n.addr == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	return nil
}

// ready says start-up (or a reload) is complete; status is shown by
// systemctl status.
func (n *notifier) ready(status string) error {
	return n.send("READY=1\nSTATUS=" + status)
}

// reloading says a reload began; systemd wants the CLOCK_MONOTONIC time
// with it, to tell this reload from an earlier one.
func (n *notifier) reloading() error {
	return n.send("RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(monotonicUsec(), 10))
}

// stopping says shutdown began; later calls do nothing.
func (n *notifier) stopping() {
	n.stopOnce.Do(func() { n.send("STOPPING=1\nSTATUS=draining") })
}

// runWatchdog sends WATCHDOG=1 at half the watchdog interval until ctx is
// done. Without a watchdog it returns at once.
func (n *notifier) runWatchdog(ctx context.Context) {
	if n == nil || n.addr == nil || n.watchdog <= 0 {
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.send("WATCHDOG=1")
		}
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, the clock systemd
// compares MONOTONIC_USEC against.
func monotonicUsec() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano() / 1000
}
