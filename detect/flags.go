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
// value), "pull?" (optional value, only with '='), with an optional shorthand
// after the long name: "volume|v=", "tty|t".
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
		if i := strings.IndexByte(s, '|'); i >= 0 {
			if len(s) != i+2 {
				panic("detect: bad flag spec " + s)
			}
			sp.short = s[i+1]
			s = s[:i]
		}
		sp.long = s
		if _, dup := fs.long[s]; dup {
			panic("detect: duplicate flag spec " + s)
		}
		fs.long[s] = sp
		if sp.short != 0 {
			fs.short[sp.short] = sp
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
