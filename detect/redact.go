package detect

import (
	"strings"
)

// Redacted replaces a secret value in every emitted command line and piece
// of evidence.
const Redacted = "[REDACTED]"

// Secrets decides which names are credentials: SecretName's patterns and
// extra globs (upper case, * for any run of characters). The nil *Secrets
// uses the default patterns only.
type Secrets struct {
	extra []string
}

// NewSecrets returns the default patterns plus extra globs such as
// "*_CERT" or "VAULT_*", matched without regard to case.
func NewSecrets(extra ...string) *Secrets {
	s := &Secrets{}
	for _, e := range extra {
		s.extra = append(s.extra, strings.ToUpper(e))
	}
	return s
}

// Name reports whether name looks like a credential.
func (s *Secrets) Name(name string) bool {
	if SecretName(name) {
		return true
	}
	if s == nil {
		return false
	}
	n := strings.ToUpper(name)
	for _, g := range s.extra {
		if globMatch(g, n) {
			return true
		}
	}
	return false
}

// SecretName reports whether an environment variable or flag name looks like
// a credential: AWS_*, *TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*, *CREDENTIAL*,
// *API_KEY*, *ACCESS_KEY*, *PRIVATE_KEY*, *_KEY, *_PASS, KUBECONFIG. Any case;
// '-' and '.' count as '_'.
func SecretName(name string) bool {
	n := strings.ToUpper(name)
	n = strings.NewReplacer("-", "_", ".", "_").Replace(n)
	switch {
	case n == "":
		return false
	case strings.HasPrefix(n, "AWS_"), n == "KUBECONFIG":
		return true
	case strings.HasSuffix(n, "_KEY"), strings.HasSuffix(n, "_PASS"), strings.HasSuffix(n, "_PWD") && n != "OLD_PWD" && n != "OLDPWD":
		return true
	}
	for _, s := range [...]string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "APIKEY", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// secretFlag reports whether a long flag (without its dashes) takes a
// credential as its value: --token, --password, --registration-token,
// --client-secret, but not --password-stdin or --token-file.
func (s *Secrets) secretFlag(name string) bool {
	n := strings.ToLower(name)
	for _, s := range [...]string{"-stdin", "-file", "-path", "-dir", "-env", "-ttl"} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	if n == "kubeconfig" {
		return false
	}
	return s.Name(n) || n == "pass" || n == "auth"
}

// RedactArgs returns argv with every credential replaced by [REDACTED]:
// NAME=VALUE where NAME looks like a credential (also inside a longer
// argument such as a shell's -c script, and as --env=NAME=VALUE or
// -eNAME=VALUE), the value of --token, --password and the like, -p of a login
// command, the password of user:pass@ in URLs, and Authorization: header
// values. It returns argv itself when there was nothing to redact.
func RedactArgs(argv []string) []string { return (*Secrets)(nil).Args(argv) }

// Args redacts argv as RedactArgs does, with s's patterns.
func (s *Secrets) Args(argv []string) []string {
	var out []string
	set := func(i int, s string) {
		if out == nil {
			out = append([]string(nil), argv...)
		}
		out[i] = s
	}
	login := false
	for i, a := range argv {
		r, whole := s.redactAssignment(a)
		if !whole {
			r = s.redactText(a)
		}
		if r != a {
			set(i, r)
		}
		if a == "login" {
			login = true
		}
		if i+1 < len(argv) && s.valueIsSecret(a, login) {
			set(i+1, Redacted)
		}
		if login && strings.HasPrefix(a, "-p") && len(a) > 2 && !strings.HasPrefix(a, "--") {
			set(i, "-p"+Redacted)
		}
	}
	if out == nil {
		return argv
	}
	return out
}

// redactAssignment redacts an argument that is NAME=VALUE, or a flag with it
// attached (--env=NAME=VALUE, -eNAME=VALUE), where NAME looks like a
// credential: the whole rest of the argument is the value, spaces and
// quotes included. whole is false for any other argument.
func (s *Secrets) redactAssignment(a string) (string, bool) {
	prefix, body := "", a
	switch {
	case strings.HasPrefix(a, "--"):
		i := strings.IndexByte(a, '=')
		if i < 0 {
			return "", false
		}
		prefix, body = a[:i+1], a[i+1:]
	case len(a) > 2 && a[0] == '-':
		prefix, body = a[:2], a[2:]
	}
	name, value, ok := strings.Cut(body, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\n") || value == "" || value == Redacted || !s.Name(name) {
		return "", false
	}
	return prefix + body[:strings.IndexByte(body, '=')] + "=" + Redacted, true
}

// RedactString redacts a free-text command line or piece of evidence as
// RedactArgs redacts an argument.
func RedactString(text string) string { return (*Secrets)(nil).redactText(text) }

// String redacts text as RedactString does, with s's patterns.
func (s *Secrets) String(text string) string { return s.redactText(text) }

// valueIsSecret reports whether the word after w is a credential: w is
// --token, --password, ... without '=', or -p of a login command.
func (s *Secrets) valueIsSecret(w string, login bool) bool {
	if strings.HasPrefix(w, "--") && !strings.Contains(w, "=") {
		return s.secretFlag(w[2:])
	}
	return login && w == "-p"
}

// redactText redacts inside one argument, word by word.
func (s *Secrets) redactText(text string) string {
	if !strings.ContainsAny(text, "=:") {
		return text
	}
	var b strings.Builder
	changed := false
	login := false
	prevSecret := false
	auth := 0 // 1: after "Authorization:", 2: after its scheme
	i := 0
	for i < len(text) {
		// Copy separators.
		j := i
		for j < len(text) && isSpace(text[j]) {
			j++
		}
		b.WriteString(text[i:j])
		if j >= len(text) {
			break
		}
		k := j
		for k < len(text) && !isSpace(text[k]) {
			k++
		}
		w := text[j:k]
		r := w
		switch {
		case prevSecret:
			r = redactWordValue(w)
			auth = 0
		case auth == 1 && isAuthScheme(w):
			auth = 2
		case auth > 0:
			r = redactWordValue(w)
			auth = 0
		default:
			r = s.redactWord(w)
			if strings.EqualFold(strings.Trim(w, `"'`), "authorization:") {
				auth = 1
			}
		}
		prevSecret = s.valueIsSecret(strings.TrimLeft(w, `"'`), login)
		if w == "login" {
			login = true
		}
		if r != w {
			changed = true
		}
		b.WriteString(r)
		i = k
	}
	if !changed {
		return text
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isAuthScheme(w string) bool {
	switch strings.ToLower(strings.Trim(w, `"'`)) {
	case "bearer", "basic", "token", "splunk", "digest", "negotiate", "apikey":
		return true
	}
	return false
}

// redactWordValue replaces a whole word, keeping the quotes around it.
func redactWordValue(w string) string {
	core := strings.TrimLeft(w, `"'`)
	lead := w[:len(w)-len(core)]
	trimmed := strings.TrimRight(core, `"';`)
	return lead + Redacted + core[len(trimmed):]
}

// redactWord redacts NAME=VALUE, --flag=VALUE, URL passwords and
// "Authorization:VALUE" inside one whitespace-free word.
func (s *Secrets) redactWord(w string) string {
	out := w
	if strings.Contains(w, "://") {
		out = redactURLs(out)
	}
	if !strings.Contains(out, "=") {
		return out
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(out); i++ {
		if out[i] != '=' {
			continue
		}
		start := i
		for start > 0 && isNameByte(out[start-1]) {
			start--
		}
		name := out[start:i]
		secret := s.Name(strings.TrimLeft(name, "-"))
		if !secret && start > 0 && out[start-1] == '-' && len(name) > 1 && !strings.HasPrefix(name, "-") {
			// -eNAME=VALUE: a shorthand with its value attached.
			secret = s.Name(name[1:])
		}
		if strings.HasPrefix(name, "--") {
			secret = s.secretFlag(name[2:])
		}
		if !secret {
			continue
		}
		end := i + 1
		for end < len(out) && !isValueEnd(out[end]) {
			end++
		}
		if end == i+1 || out[i+1:end] == Redacted {
			continue
		}
		b.WriteString(out[last : i+1])
		b.WriteString(Redacted)
		last = end
		i = end - 1
	}
	if last == 0 {
		return out
	}
	b.WriteString(out[last:])
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

func isValueEnd(c byte) bool {
	switch c {
	case '"', '\'', ';', '&', '|', ')', '`', ' ', '\t', '\n':
		return true
	}
	return false
}

// redactURLs replaces the password of every scheme://user:password@host in w.
func redactURLs(w string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(w); i++ {
		if w[i:i+3] != "://" {
			continue
		}
		start := i + 3
		end := start
		for end < len(w) && w[end] != '/' && w[end] != '@' && !isValueEnd(w[end]) {
			end++
		}
		if end >= len(w) || w[end] != '@' {
			continue
		}
		colon := strings.IndexByte(w[start:end], ':')
		if colon < 0 || w[start+colon+1:end] == Redacted {
			continue
		}
		b.WriteString(w[last : start+colon+1])
		b.WriteString(Redacted)
		last = end
		i = end
	}
	if last == 0 {
		return w
	}
	b.WriteString(w[last:])
	return b.String()
}

// globMatch reports whether name matches pattern, where * matches any run
// of characters ('/' included) and ? any one.
func globMatch(pattern, name string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if globMatch(pattern, name[i:]) {
					return true
				}
			}
			return false
		case '?':
			if name == "" {
				return false
			}
		default:
			if name == "" || name[0] != pattern[0] {
				return false
			}
		}
		pattern, name = pattern[1:], name[1:]
	}
	return name == ""
}
