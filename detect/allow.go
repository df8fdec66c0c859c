package detect

import (
	"errors"
	"fmt"
	"strings"
)

// AllowRule suppresses known-good deployments. Every field that is set must
// match: Image, Parent (the parent's program name), User (the account),
// Host and Runtime are globs (* matches any run of characters, / included;
// ? one character). Flags, when set, suppresses only findings whose every
// category is in it, so an allowed image launched with more power still
// alerts.
type AllowRule struct {
	Name                               string
	Image, Parent, User, Host, Runtime string
	Flags                              []Category
}

// Subject is what an allow rule is matched against.
type Subject struct {
	Image, Parent, User, Host, Runtime string
}

// Validate reports what is wrong with the rule: a rule with no condition at
// all would suppress everything.
func (r *AllowRule) Validate() error {
	if r.Image == "" && r.Parent == "" && r.User == "" && r.Host == "" && r.Runtime == "" && len(r.Flags) == 0 {
		return errors.New("has no condition: it would suppress every alert (set image, parent, user, host, runtime or flags)")
	}
	for _, g := range []string{r.Image, r.Parent, r.User, r.Host, r.Runtime} {
		if strings.Count(g, "[") != strings.Count(g, "]") {
			return fmt.Errorf("glob %q: unbalanced brackets (only * and ? are special)", g)
		}
	}
	return nil
}

// Matches reports whether the rule suppresses finding f about subject s.
func (r *AllowRule) Matches(f *Finding, s Subject) bool {
	for _, c := range [...]struct{ glob, v string }{
		{r.Image, s.Image}, {r.Parent, s.Parent}, {r.User, s.User}, {r.Host, s.Host}, {r.Runtime, s.Runtime},
	} {
		if c.glob != "" && !globMatch(c.glob, c.v) {
			return false
		}
	}
	if len(r.Flags) == 0 {
		return true
	}
	for _, fl := range f.Flags {
		allowed := false
		for _, c := range r.Flags {
			allowed = allowed || c == fl.Category
		}
		if !allowed {
			return false
		}
	}
	return true
}

// Allowlist is an ordered set of rules; the first that matches names the
// suppression.
type Allowlist []AllowRule

// Match returns the name of the first rule that suppresses f, or "".
func (l Allowlist) Match(f *Finding, s Subject) string {
	for i := range l {
		if l[i].Matches(f, s) {
			if l[i].Name == "" {
				return fmt.Sprintf("allow[%d]", i)
			}
			return l[i].Name
		}
	}
	return ""
}
