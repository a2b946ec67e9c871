package ironicmdns

// The tests run in private network namespaces only (docs/LAB.md): TestMain
// re-runs the test binary under `unshare -n` (root) or `unshare -rn`; that
// process is host A (198.18.0.1, fd00:99::1 on va). hostB adds host B
// (198.18.0.2, fd00:99::2 on vb) joined by a veth, for one test. Where no
// namespace can be made the network tests skip, or fail with
// IRONICMDNS_REQUIRE_NETNS=1; nothing here sends on a real network.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	a4 = "198.18.0.1"
	b4 = "198.18.0.2"
)

var inLab bool

func TestMain(m *testing.M) {
	if role := os.Getenv("IRONICMDNS_GO_ROLE"); role != "" {
		os.Exit(runRole(role)) // on host B: wire_test.go
	}
	if os.Getenv("IRONICMDNS_GO_LAB") == "1" {
		inLab = true
		if err := sh("ip link set lo up && ip link set lo multicast on"); err != nil {
			fmt.Fprintln(os.Stderr, "lab: lo:", err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	unshare := []string{"unshare", "-rn"}
	if os.Geteuid() == 0 {
		unshare = []string{"unshare", "-n"}
	}
	if err := exec.Command(unshare[0], append(unshare[1:], "true")...).Run(); err != nil {
		fmt.Fprintf(os.Stderr, "network test skipped: no private network namespace (%v)\n", err)
		os.Exit(m.Run())
	}
	args := append(unshare[1:], os.Args...)
	cmd := exec.Command(unshare[0], args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "IRONICMDNS_GO_LAB=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func sh(script string) error {
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", script, err, out)
	}
	return nil
}

// needLab skips (or fails, with IRONICMDNS_REQUIRE_NETNS=1) outside a lab.
func needLab(t *testing.T) {
	t.Helper()
	if inLab {
		return
	}
	if os.Getenv("IRONICMDNS_REQUIRE_NETNS") == "1" {
		t.Fatal("no private network namespace")
	}
	t.Skip("network test skipped: no private network namespace")
}

type host struct {
	t  *testing.T
	ns string
}

// hostB builds host B for one test; it goes with the test.
func hostB(t *testing.T) *host {
	t.Helper()
	needLab(t)
	sleeper := exec.Command("unshare", "-n", "sleep", "infinity")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	for i := 0; i < 100; i++ {
		if l, _ := os.Readlink(ns); l != "" && l != self {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		_ = sleeper.Wait()
		_ = exec.Command("ip", "link", "del", "va").Run()
	})
	if err := sh(fmt.Sprintf("ip link add va type veth peer name vb && ip link set vb netns %s && "+
		"ip addr add %s/24 dev va && ip -6 addr add fd00:99::1/64 dev va nodad && "+
		"ip link set va multicast on && ip link set va up && ip route add 224.0.0.0/4 dev va", ns, a4)); err != nil {
		t.Fatal(err)
	}
	if err := sh(fmt.Sprintf("nsenter --net=%s sh -c 'ip link set lo up && ip addr add %s/24 dev vb && "+
		"ip -6 addr add fd00:99::2/64 dev vb nodad && ip link set vb multicast on && ip link set vb up && "+
		"ip route add 224.0.0.0/4 dev vb'", ns, b4)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	return &host{t: t, ns: ns}
}

// command is argv on host B.
func (h *host) command(argv ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + h.ns}, argv...)...)
}

// role is the argv that runs this test binary on B in one of the roles of
// wire_test.go.
func (h *host) role(name, arg string) []string {
	self, err := os.Executable()
	if err != nil {
		h.t.Fatal(err)
	}
	return []string{"env", "IRONICMDNS_GO_ROLE=" + name + " " + arg, self}
}

// start runs argv on B until the test ends, after a stdout line starting
// with ready.
func (h *host) start(ready string, argv ...string) {
	h.t.Helper()
	lines := h.startLines(ready, argv...)
	go func() {
		for range lines {
		}
	}()
}

// startLines is start that hands over argv's stdout lines after ready;
// read them until the test ends or the channel closes.
func (h *host) startLines(ready string, argv ...string) <-chan string {
	h.t.Helper()
	cmd := h.command(argv...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 4096)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				h.t.Fatalf("%v ended before %q", argv, ready)
			}
			if strings.HasPrefix(l, ready) {
				return lines
			}
		case <-deadline:
			h.t.Fatalf("%v: no %q in 30 s", argv, ready)
		}
	}
}

// root is the source tree (go/ is one level down).
func root() string {
	wd, _ := os.Getwd()
	return filepath.Dir(wd)
}

// cli is the ironic-mdns tool of this tree (IRONICMDNS_CLI overrides).
func cli(t *testing.T) string {
	if p := os.Getenv("IRONICMDNS_CLI"); p != "" {
		return p
	}
	p := filepath.Join(root(), "target", "debug", "ironic-mdns")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (cargo build first, or set IRONICMDNS_CLI)", p, err)
	}
	return p
}

// venvPython is the peers' venv (ironic_lib), or "" when absent (a
// failure with IRONICMDNS_REQUIRE_PEERS=1).
func venvPython(t *testing.T) string {
	p := filepath.Join(root(), ".venv", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("IRONICMDNS_REQUIRE_PEERS") == "1" {
			t.Fatalf("no peers venv: %v", err)
		}
		return ""
	}
	return p
}
