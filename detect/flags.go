package detect

import (
	"fmt"
	"strconv"
	"strings"
)

// valueKind says whether a flag takes a value, the way spf13/pflag (which the
// docker, podman and nerdctl CLIs use) decides it.
type valueKind uint8

const (
	boolFlag     valueKind = iota // --rm, --rm=false; never consumes the next argument
	requiredFlag                  // --name web, --name=web, -nweb, -n web
	optionalFlag                  // NoOptDefVal: --pull, --pull=always; never the next argument
)

type flagSpec struct {
	long  string
	short byte
	kind  valueKind
}

// flagSet is the table of one command's options. Built once from spec
// strings and never changed.
type flagSet struct {
	long  map[string]*flagSpec
	short map[byte]*flagSpec
}

// newFlagSet builds a table from specs: "rm" (boolean), "name=" (takes a
// value), "pull?" (optional value, only with '='), with aliases after the
// long name: "volume|v=", "tty|t". A one-letter alias is a pflag shorthand
// (-v); urfave/cli flags may have longer ones ("namespace|n|ns=").
func newFlagSet(specs ...string) flagSet {
	fs := flagSet{long: make(map[string]*flagSpec, len(specs)), short: make(map[byte]*flagSpec)}
	for _, s := range specs {
		sp := &flagSpec{}
		switch {
		case strings.HasSuffix(s, "="):
			sp.kind, s = requiredFlag, s[:len(s)-1]
		case strings.HasSuffix(s, "?"):
			sp.kind, s = optionalFlag, s[:len(s)-1]
		}
		names := strings.Split(s, "|")
		sp.long = names[0]
		for i, n := range names {
			if n == "" {
				panic("detect: bad flag spec " + s)
			}
			if len(n) == 1 && i > 0 {
				sp.short = n[0]
				fs.short[n[0]] = sp
				continue
			}
			if _, dup := fs.long[n]; dup {
				panic("detect: duplicate flag spec " + n)
			}
			fs.long[n] = sp
		}
	}
	return fs
}

// option is one occurrence of a flag on a command line.
type option struct {
	name    string // the long name ("volume" for -v)
	value   string // the value; "true"/"false" for booleans
	text    string // as written, with a separate value joined by a space: "-v /:/host"
	unknown bool   // not in the table
}

// parsedArgs is a command line split the way pflag splits it.
type parsedArgs struct {
	opts  []option
	args  []string // the positional arguments
	notes []string // unknown flags, missing values: where the real CLI would have failed
}

// parse splits args into options and positional arguments. With
// interspersed false (docker run, podman run, the root commands) the first
// positional argument ends the options: it and everything after it are
// positional. "--" ends the options in any case. Unknown flags are taken as
// booleans and noted: a newer CLI than our table may know them.
func (fs flagSet) parse(args []string, interspersed bool) parsedArgs {
	var p parsedArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.args = append(p.args, args[i+1:]...)
			return p
		case len(a) < 2 || a[0] != '-':
			if !interspersed {
				p.args = append(p.args, args[i:]...)
				return p
			}
			p.args = append(p.args, a)
		case a[1] == '-':
			i = fs.parseLong(&p, args, i)
		default:
			i = fs.parseShort(&p, args, i)
		}
	}
	return p
}

// parseGo splits args the way Go's flag package does, which urfave/cli (ctr,
// crictl) builds on: -flag and --flag alike, -flag=value, -flag value for
// non-booleans, no combined shorthands; the first positional argument or "--"
// ends the options.
func (fs flagSet) parseGo(args []string) parsedArgs {
	var p parsedArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.args = append(p.args, args[i+1:]...)
			return p
		}
		if len(a) < 2 || a[0] != '-' {
			p.args = append(p.args, args[i:]...)
			return p
		}
		name := a[1:]
		if name[0] == '-' {
			name = name[1:]
		}
		name, value, hasValue := strings.Cut(name, "=")
		sp := fs.long[name]
		if sp == nil && len(name) == 1 {
			sp = fs.short[name[0]]
		}
		switch {
		case name == "" || name[0] == '-' || name[0] == '=':
			p.notef("bad flag syntax: %s", a)
		case sp == nil:
			p.notef("unknown flag %s taken as a boolean", a)
			if !hasValue {
				value = "true"
			}
			p.opts = append(p.opts, option{name: name, value: value, text: a, unknown: true})
		case hasValue:
			p.add(sp, value, a)
		case sp.kind != requiredFlag:
			p.add(sp, "true", a)
		case i+1 < len(args):
			i++
			p.add(sp, args[i], a+" "+args[i])
		default:
			p.notef("flag needs an argument: %s", a)
		}
	}
	return p
}

func (fs flagSet) parseLong(p *parsedArgs, args []string, i int) int {
	a := args[i]
	name, value, hasValue := strings.Cut(a[2:], "=")
	sp := fs.long[name]
	if sp == nil {
		p.notef("unknown flag --%s taken as a boolean", name)
		if !hasValue {
			value = "true"
		}
		p.opts = append(p.opts, option{name: name, value: value, text: a, unknown: true})
		return i
	}
	text := a
	switch {
	case hasValue:
	case sp.kind != requiredFlag:
		value = "true"
		if sp.kind == optionalFlag {
			value = ""
		}
	case i+1 < len(args):
		i++
		value = args[i]
		text = a + " " + value
	default:
		p.notef("flag needs an argument: --%s", name)
		return i
	}
	p.add(sp, value, text)
	return i
}

func (fs flagSet) parseShort(p *parsedArgs, args []string, i int) int {
	a := args[i]
	shorts := a[1:]
	for len(shorts) > 0 {
		if strings.HasPrefix(shorts, "test.") {
			// pflag skips the rest of a shorthand group from "test." on (go
			// test's flags), without a word: so must we, or -test.c would
			// hide the subcommand behind a --context value.
			return i
		}
		c := shorts[0]
		sp := fs.short[c]
		if sp == nil {
			p.notef("unknown shorthand flag -%c in %s taken as a boolean", c, a)
			p.opts = append(p.opts, option{name: string(c), value: "true", text: "-" + string(c), unknown: true})
			shorts = shorts[1:]
			continue
		}
		switch {
		case len(shorts) > 2 && shorts[1] == '=':
			// -f=value
			p.add(sp, shorts[2:], "-"+shorts)
			return i
		case sp.kind != requiredFlag:
			value := "true"
			if sp.kind == optionalFlag {
				value = ""
			}
			p.add(sp, value, "-"+string(c))
			shorts = shorts[1:]
		case len(shorts) > 1:
			// -fvalue
			p.add(sp, shorts[1:], "-"+shorts)
			return i
		case i+1 < len(args):
			i++
			p.add(sp, args[i], "-"+string(c)+" "+args[i])
			return i
		default:
			p.notef("flag needs an argument: -%c", c)
			return i
		}
	}
	return i
}

func (p *parsedArgs) add(sp *flagSpec, value, text string) {
	if sp.kind == boolFlag {
		b, err := strconv.ParseBool(value)
		if err != nil {
			p.notef("invalid boolean %q for --%s: the CLI would refuse it", value, sp.long)
			return
		}
		value = strconv.FormatBool(b)
	}
	p.opts = append(p.opts, option{name: sp.long, value: value, text: text})
}

func (p *parsedArgs) notef(format string, args ...any) {
	if len(p.notes) < 8 {
		p.notes = append(p.notes, fmt.Sprintf(format, args...))
	}
}

// join returns a table holding the flags of fs and of more; fs wins where
// both define a name (a command's own flag shadows a persistent one).
func join(fs flagSet, more ...flagSet) flagSet {
	out := flagSet{long: make(map[string]*flagSpec), short: make(map[byte]*flagSpec)}
	for i := len(more) - 1; i >= -1; i-- {
		src := fs
		if i >= 0 {
			src = more[i]
		}
		for k, v := range src.long {
			out.long[k] = v
		}
		for k, v := range src.short {
			out.short[k] = v
		}
	}
	return out
}

// command finds the subcommand in args as cobra does: skipping the flags
// fs (the persistent ones) knows, with their values. It returns the
// subcommand and the arguments without it, flags before it included.
func (fs flagSet) command(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return "", nil
		case len(a) < 2 || a[0] != '-':
			rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
			return a, rest
		case strings.Contains(a, "="):
		case a[1] == '-':
			if sp := fs.long[a[2:]]; sp != nil && sp.kind == requiredFlag {
				i++
			}
		case len(a) == 2:
			if sp := fs.short[a[1]]; sp != nil && sp.kind == requiredFlag {
				i++
			}
		}
	}
	return "", nil
}
