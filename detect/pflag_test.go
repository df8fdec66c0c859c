package detect

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// pflagTable is one of our flag tables with how its command parses.
type pflagTable struct {
	name         string
	fs           flagSet
	interspersed bool
}

// pflagTables are the tables of the CLIs built on spf13/pflag (cobra):
// docker, podman, nerdctl (options end at the first positional argument)
// and kubectl (options anywhere).
var pflagTables = []pflagTable{
	{"dockerGlobalFlags", dockerGlobalFlags, false},
	{"dockerContainerRunFlags", dockerContainerRunFlags, false},
	{"dockerExecFlags", dockerExecFlags, false},
	{"dockerServiceCreateFlags", dockerServiceCreateFlags, false},
	{"podmanGlobalFlags", podmanGlobalFlags, false},
	{"podmanContainerRunFlags", podmanContainerRunFlags, false},
	{"podmanExecFlags", podmanExecFlags, false},
	{"nerdctlGlobalFlags", nerdctlGlobalFlags, false},
	{"nerdctlContainerRunFlags", nerdctlContainerRunFlags, false},
	{"nerdctlExecFlags", nerdctlExecFlags, false},
	{"kubectlRun", kubectlRun, true},
	{"kubectlDebug", kubectlDebug, true},
	{"kubectlApply", kubectlApply, true},
	{"kubectlCreate", kubectlCreate, true},
	{"kubectlReplace", kubectlReplace, true},
}

// optDefault is the NoOptDefVal of optional-value flags: pflag needs a
// non-empty one; ours is "". No argument of the tests holds a NUL.
const optDefault = "\x00no-value"

// newPflagSet builds the pflag.FlagSet equivalent to fs: boolFlag as Bool,
// requiredFlag as StringArray, optionalFlag as String with NoOptDefVal, the
// shorthands of fs.short, aliases as flags of their own.
func newPflagSet(tb testing.TB, fs flagSet, interspersed bool) *pflag.FlagSet {
	tb.Helper()
	shorthand := map[*flagSpec]string{}
	for c, sp := range fs.short {
		if c >= 0x80 {
			tb.Fatalf("shorthand %q of --%s is not ASCII", c, sp.long)
		}
		if prev, ok := shorthand[sp]; ok {
			tb.Fatalf("--%s has two shorthands, -%s and -%c", sp.long, prev, c)
		}
		shorthand[sp] = string(c)
	}
	p := pflag.NewFlagSet("t1610d", pflag.ContinueOnError)
	p.SetOutput(io.Discard)
	p.Usage = func() {}
	p.SetInterspersed(interspersed)
	names := make([]string, 0, len(fs.long))
	for n := range fs.long {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sp := fs.long[n]
		short := ""
		if n == sp.long {
			short = shorthand[sp]
		}
		switch sp.kind {
		case boolFlag:
			p.BoolP(n, short, false, "")
		case requiredFlag:
			p.StringArrayP(n, short, nil, "")
		case optionalFlag:
			p.StringP(n, short, "", "")
			p.Lookup(n).NoOptDefVal = optDefault
		default:
			tb.Fatalf("--%s: kind %d", n, sp.kind)
		}
	}
	return p
}

type occurrence struct{ name, value string }

func (o occurrence) String() string { return o.name + "=" + o.value }

// comparePflag parses args with ours and with pflag; it returns what
// disagrees ("" for nothing) and pflag's error. Where pflag accepts args,
// our options (long name and value, in order) and positional arguments must
// be its, and we must have no note; where it refuses them we must have a
// note.
func comparePflag(tab pflagTable, pf *pflag.FlagSet, args []string) (string, error) {
	var theirs []occurrence
	err := pf.ParseAll(args, func(fl *pflag.Flag, v string) error {
		switch {
		case fl.Value.Type() == "bool":
			if err := fl.Value.Set(v); err != nil {
				return err
			}
			v = fl.Value.String()
		case fl.NoOptDefVal == optDefault && v == optDefault:
			v = ""
		}
		name := fl.Name
		if sp := tab.fs.long[name]; sp != nil {
			name = sp.long // an alias reports its flag's name
		}
		theirs = append(theirs, occurrence{name, v})
		return nil
	})
	ours := tab.fs.parse(args, tab.interspersed)
	if err != nil {
		if len(ours.notes) == 0 {
			return fmt.Sprintf("pflag refuses (%v), we have no note; ours: %v %q", err, ours.opts, ours.args), err
		}
		return "", err
	}
	var mine []occurrence
	for _, o := range ours.opts {
		mine = append(mine, occurrence{o.name, o.value})
	}
	var diffs []string
	if !slices.Equal(mine, theirs) {
		diffs = append(diffs, fmt.Sprintf("options: pflag %v, ours %v", theirs, mine))
	}
	if !slices.Equal(pf.Args(), ours.args) {
		diffs = append(diffs, fmt.Sprintf("arguments: pflag %q, ours %q", pf.Args(), ours.args))
	}
	if len(ours.notes) > 0 {
		diffs = append(diffs, fmt.Sprintf("pflag accepts, we note %q", ours.notes))
	}
	return strings.Join(diffs, "; "), nil
}

// pflagCases are the table cases: each is split on spaces, and two single
// quotes stand for an empty argument.
var pflagCases = []string{
	"-itv /:/host alpine sh",
	"-v=/:/h alpine",
	"-v/:/h alpine",
	"-v= alpine",
	"-a= -a=x= alpine",
	"-v /:/h alpine",
	"--volume=/:/h --volume /a:/b alpine",
	"--privileged=false alpine",
	"--privileged=true --privileged=0 --privileged=T --privileged=FALSE alpine",
	"--privileged=maybe alpine",
	"--privileged= alpine",
	"--net host alpine",
	"--net=host alpine",
	"--name=web nginx",
	"--name web nginx",
	"--name= nginx",
	"--name",
	"--name -d alpine",
	"--name -- alpine",
	"-e A=1 -eB=2 -e=C=3 alpine",
	"-e",
	"-dit alpine",
	"-dit=true alpine",
	"-d=false alpine",
	"-d= alpine",
	"-d=x alpine",
	"-ite A=1 alpine",
	"-tie",
	"--",
	"-- --privileged alpine",
	"--rm -- -v /:/h",
	"-",
	"- --privileged",
	"--rm - --privileged",
	"'' --privileged",
	"--rm alpine echo --privileged",
	"alpine --rm",
	"-p8080:80 alpine",
	"-p 8080:80 -P alpine",
	"--rm=true alpine",
	"--rm=1 -t=true alpine",
	"--unknown alpine",
	"--unknown=1 alpine",
	"-x alpine",
	"-dx alpine",
	"---privileged alpine",
	"--=x alpine",
	"-=x alpine",
	"-h",
	"-h web alpine",
	"--help",
	"--help=false alpine",
	"-H tcp://1.2.3.4:2375 run",
	"-Htcp://x run",
	"-D -l debug run",
	"--debug --log-level=info ps",
	"-c default run",
	"-Dc ctx run",
	"--context=x --config /tmp run",
	"--cap-add SYS_ADMIN --cap-add=NET_ADMIN alpine",
	"--mount type=bind,src=/,dst=/h alpine",
	"--network=host --pid=host --ipc host --uts=host --userns=host --cgroupns=host alpine",
	"--security-opt seccomp=unconfined alpine",
	"--device=/dev/sda -v/var/run/docker.sock:/s alpine",
	"-m 1g --memory=2g -c 512 alpine",
	"-u 0 -w / -l a=b alpine",
	"-a stdin -a stdout alpine",
	"--pull always alpine",
	"--pull=never alpine",
	"--rootfs /",
	"--remote --url unix:///x run",
	"-r run",
	"--H tcp://x -H=tcp://y -a /run/c.sock -n k8s.io run",
	"-l debug run",
	"--latest -l",
	"-i -t -d -P -q alpine",
	"-itdPq alpine",
	"-ti --rm=false -e X=1 --env=Y=2 --env Z=3 alpine sh -c 'echo hi'",
	"pod --image=alpine --privileged -- sh",
	"web --image alpine --overrides={} -n ns",
	"-f pod.yaml --dry-run=client -o yaml",
	"-it --image=busybox --target=web web --profile=sysadmin",
	"node/n1 -it --image=ubuntu",
	"-R -f dir/ --server-side",
	"é -é --é",
	"'' '' -",
}

func splitCase(c string) []string {
	if c == "" {
		return nil
	}
	args := strings.Split(c, " ")
	for i, a := range args {
		if a == "''" {
			args[i] = ""
		}
	}
	return args
}

// Cases where t1610d once disagreed with pflag (-test.* evasion).
var pflagKnownCases = []string{
	"-test.v alpine",
	"-dtest.v alpine",
	"-test.c run --privileged -v /:/host alpine",
	"-test.a /x run",
}

func TestFlagSetMatchesPflag(t *testing.T) {
	for _, tab := range pflagTables {
		pf := newPflagSet(t, tab.fs, tab.interspersed)
		for _, c := range append(pflagCases, pflagKnownCases...) {
			args := splitCase(c)
			diff, err := comparePflag(tab, pf, args)
			switch {
			case diff != "":
				t.Errorf("%s %q: %s", tab.name, args, diff)
			case testing.Verbose():
				t.Logf("%s %q: agree (pflag error: %v)", tab.name, args, err)
			}
		}
	}
}

// TestFlagTablesSane checks what the differential takes for granted: every
// shorthand belongs to a flag whose long name is in the table.
func TestFlagTablesSane(t *testing.T) {
	for _, tab := range pflagTables {
		for c, sp := range tab.fs.short {
			if tab.fs.long[sp.long] != sp {
				t.Errorf("%s: -%c belongs to --%s, which the table does not hold", tab.name, c, sp.long)
			}
		}
		for n, sp := range tab.fs.long {
			if sp.short != 0 && tab.fs.short[sp.short] != sp && n == sp.long && !tab.interspersed {
				t.Errorf("%s: --%s says its shorthand is -%c, which is another flag's", tab.name, n, sp.short)
			}
		}
	}
}

func FuzzFlagSetMatchesPflag(f *testing.F) {
	for _, c := range pflagCases {
		f.Add(strings.Join(splitCase(c), "\x00"))
	}
	for _, c := range pflagKnownCases {
		f.Add(strings.Join(splitCase(c), "\x00"))
	}
	for _, s := range dockerSeeds {
		f.Add(strings.Join(s, "\x00"))
	}
	sets := make([]*pflag.FlagSet, len(pflagTables))
	for i, tab := range pflagTables {
		sets[i] = newPflagSet(f, tab.fs, tab.interspersed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\x00")
		}
		for i, tab := range pflagTables {
			diff, _ := comparePflag(tab, sets[i], args)
			if diff == "" {
				continue
			}
			t.Errorf("%s %q: %s", tab.name, args, diff)
		}
	})
}
