package scenarios

import (
	"fmt"
	"strconv"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Scenario is one rehearsal: a catalogue row (or one variant of it) or an
// incident file. It follows the chaos-experiment shape: the steady state is
// established and checked, a fault is injected, its effect observed, the fault
// healed, and the steady state checked again.
type Scenario struct {
	ID      string // catalogue id, e.g. "TOK-04"; also the first label
	Variant string // optional, e.g. "as-down"; ID+Variant is unique
	Title   string // a behaviour sentence
	Status  string // StatusReady or StatusDraft
	Note    string // for drafts: what the vocabulary cannot express yet

	Labels   []string // the id, then registry labels ("flow:refresh", ...)
	Sources  []string // the RFC section, sample or bug report it comes from
	Catches  []string // defect names this scenario must fail on
	Requires []string // capabilities: declared plus implied by the steps, sorted

	// Timeout bounds the whole scenario (before scaling). Zero means the
	// runner's default.
	Timeout Duration

	Steady  []Step // establish and check the steady state
	Inject  []Step // apply the fault(s)
	Observe []Step // what must (and must not) happen while faulted
	Heal    []Step // remove the fault(s)
	Recover []Step // the steady state again

	Pos Pos // where the scenario's document starts
}

// Scenario statuses.
const (
	StatusReady = "ready"
	StatusDraft = "draft"
)

// Key is the scenario's unique name: "TOK-04" or "TOK-04/as-down".
func (s *Scenario) Key() string {
	if s.Variant == "" {
		return s.ID
	}
	return s.ID + "/" + s.Variant
}

// Phase is one of the five parts of a scenario.
type Phase struct {
	Name  string // steady, inject, observe, heal, recover
	Steps []Step
}

// PhaseNames lists the phases in the order they run.
var PhaseNames = []string{"steady", "inject", "observe", "heal", "recover"}

// Phases returns the scenario's phases in order, empty ones included.
func (s *Scenario) Phases() []Phase {
	return []Phase{
		{"steady", s.Steady}, {"inject", s.Inject}, {"observe", s.Observe},
		{"heal", s.Heal}, {"recover", s.Recover},
	}
}

func (s *Scenario) phase(name string) *[]Step {
	switch name {
	case "steady":
		return &s.Steady
	case "inject":
		return &s.Inject
	case "observe":
		return &s.Observe
	case "heal":
		return &s.Heal
	case "recover":
		return &s.Recover
	}
	return nil
}

// Pos is a place in a scenario file.
type Pos struct {
	File   string
	Line   int
	Column int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Step is one entry of a phase: an action or an expectation.
type Step struct {
	Pos    Pos    // where the step starts
	Name   string // the vocabulary word, e.g. "sign_in", "expect"
	Action Action // the step's arguments, e.g. *SignIn, *Expect
}

func (s Step) String() string { return fmt.Sprintf("%s at %s", s.Name, s.Pos) }

// Action is the arguments of one step. The concrete types are the ones in
// this file; a runner switches on them.
type Action interface{ stepName() string }

// Duration is a Go duration written as a string ("61s", "2m"). It is kept as
// written; scaling by the run's timeout factor is the runner's job.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalYAML reads a Go duration string and reports a bad one at its
// position (goccy/go-yaml's own time.Duration decoding loses the position).
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	s, ok := node.(*ast.StringNode)
	if !ok {
		return positioned(node, fmt.Sprintf("%s is not a duration", describeNode(node)),
			`a Go duration in quotes or plain, such as "10s", "1m30s" or "500ms"`)
	}
	v, err := time.ParseDuration(s.Value)
	if err != nil {
		return positioned(node, fmt.Sprintf("%q is not a duration", s.Value),
			`a Go duration such as "10s", "1m30s" or "500ms" (units ns, us, ms, s, m, h)`)
	}
	*d = Duration(v)
	return nil
}

// ---- actions ---------------------------------------------------------------

// SignIn opens From in the current tab, clicks sign-in and fills the AS form
// as User. `sign_in: alice` is short for `sign_in: {user: alice}`.
type SignIn struct {
	User string `yaml:"user" req:"1"`
	From string `yaml:"from" kind:"path"` // default "/"
	Tab  string `yaml:"tab" ref:"tab"`
}

// Open navigates the current tab (or Tab) to an SPA path.
type Open struct {
	Path string `yaml:"path" req:"1" kind:"path"`
	Tab  string `yaml:"tab" ref:"tab"`
}

// Click clicks the element with a test role, in the current tab or in each
// of Tabs at once.
type Click struct {
	Role string   `yaml:"role" req:"1" enum:"sign-in|sign-out|reload|error-retry"`
	Tabs []string `yaml:"tabs" ref:"tab"`
}

// FillLogin fills and submits the AS sign-in form showing in the current tab.
type FillLogin struct {
	User string `yaml:"user" req:"1"`
}

// ReloadPage reloads the current tab, or each of Tabs at once.
type ReloadPage struct {
	Tabs []string `yaml:"tabs" ref:"tab"`
}

// Back goes one entry back in the tab's history.
type Back struct {
	Tab string `yaml:"tab" ref:"tab"`
}

// Forward goes one entry forward in the tab's history.
type Forward struct {
	Tab string `yaml:"tab" ref:"tab"`
}

// OpenTab opens a new tab in the same browser context (shared storage) and
// makes it current. The first tab is called "main".
type OpenTab struct {
	Name string `yaml:"name" req:"1" kind:"name"`
	Path string `yaml:"path" kind:"path"` // default "/"
}

// SwitchTab makes a named tab current.
type SwitchTab struct {
	Name string `yaml:"name" req:"1" ref:"tab"`
}

// CloseTab closes a named tab.
type CloseTab struct {
	Name string `yaml:"name" req:"1" ref:"tab"`
}

// CallAPI calls the API directly (not through the SPA) and saves the answer
// under SaveAs for `response` expectations.
type CallAPI struct {
	Method string `yaml:"method" enum:"GET|POST|PUT|PATCH|DELETE|OPTIONS"` // default GET
	Path   string `yaml:"path" req:"1" kind:"path"`
	// Token is which token to send: the tab's current access token, its ID
	// token, none, the current one with its signature altered, a minted one,
	// a remembered one, or a literal string.
	Token      string            `yaml:"token" enum:"current|id_token|none|tampered|minted|remembered|literal"`
	Remembered string            `yaml:"remembered" ref:"memory"`
	Literal    string            `yaml:"literal"`
	Mint       *Mint             `yaml:"mint"`
	Scheme     string            `yaml:"scheme"`                           // default "Bearer"
	SendAs     string            `yaml:"send_as" enum:"header|query|both"` // default header
	Headers    map[string]string `yaml:"headers"`
	SaveAs     string            `yaml:"save_as" kind:"name"`
}

// Mint describes an access token made by the AS's control plane: a valid
// token for the signed-in user, then changed as asked.
type Mint struct {
	Key           string              `yaml:"key" enum:"as|foreign|foreign-with-as-kid|none|hmac-with-as-public-key"` // default as
	Alg           string              `yaml:"alg" enum:"RS256|PS256|ES256|ES512|EdDSA|HS256|none"`
	Set           map[string]any      `yaml:"set"`   // claims and header fields (typ) to set
	Omit          []string            `yaml:"omit"`  // claims to leave out
	Shift         map[string]Duration `yaml:"shift"` // move time claims (exp, nbf, iat) by a signed duration
	TamperPayload bool                `yaml:"tamper_payload"`
}

// CallAS calls an AS endpoint directly and saves the answer under SaveAs.
type CallAS struct {
	Method          string            `yaml:"method" enum:"GET|POST"`
	Path            string            `yaml:"path" req:"1" kind:"path"`
	Query           map[string]string `yaml:"query"`
	Form            map[string]string `yaml:"form"`
	Use             map[string]string `yaml:"use" ref:"memory"` // form field -> remembered value
	Headers         map[string]string `yaml:"headers"`
	FollowRedirects bool              `yaml:"follow_redirects"`
	SaveAs          string            `yaml:"save_as" kind:"name"`
}

// Authorize runs an authorization request and the AS sign-in as User without
// the browser, and saves the resulting redirect (code, state, verifier) or
// error under SaveAs.
type Authorize struct {
	User                string `yaml:"user" req:"1"`
	CodeChallengeMethod string `yaml:"code_challenge_method" enum:"S256|plain|none"` // default S256
	SaveAs              string `yaml:"save_as" req:"1" kind:"name"`
}

// ExchangeCode posts the code saved by an Authorize step to the token
// endpoint with the right, a wrong or no verifier.
type ExchangeCode struct {
	Code     string `yaml:"code" req:"1" ref:"memory"`
	Verifier string `yaml:"verifier" enum:"correct|wrong|none"` // default correct
	SaveAs   string `yaml:"save_as" kind:"name"`
}

// Remember saves the tokens currently stored by the SPA under names, for
// later calls and comparisons.
type Remember struct {
	AccessToken  string `yaml:"access_token" kind:"name"`
	RefreshToken string `yaml:"refresh_token" kind:"name"`
	IDToken      string `yaml:"id_token" kind:"name"`
	Tab          string `yaml:"tab" ref:"tab"`
}

// Fault injects a fault on a link at one layer. It stays until a heal step
// names it (or `heal: all`), and the runner removes any left at the end.
type Fault struct {
	Name  string `yaml:"name" kind:"name"` // default f1, f2, ... in order
	Link  string `yaml:"link" enum:"spa|as|api|jwks"`
	Layer string `yaml:"layer" req:"1" enum:"network|http|browser"`
	Kind  string `yaml:"kind" req:"1"`
	// OnRequest arms a network or http fault instead of applying it at once:
	// it takes effect when the HTTP proxy of a link first sees a matching
	// request, before that request goes on ("spa:/callback": black-hole the
	// AS only once the sign-in callback loads).
	OnRequest string `yaml:"on_request" kind:"counter"`

	// network (toxiproxy)
	Stream        string   `yaml:"stream" enum:"downstream|upstream"`
	Latency       Duration `yaml:"latency"`
	Jitter        Duration `yaml:"jitter"`
	RateKBps      int      `yaml:"rate_kbps"`
	Delay         Duration `yaml:"delay"`
	Timeout       Duration `yaml:"timeout"`
	Bytes         int      `yaml:"bytes"`
	AverageSize   int      `yaml:"average_size"`
	SizeVariation int      `yaml:"size_variation"`

	// http (fault-and-observation proxy) and browser
	Match       string            `yaml:"match"` // path (glob) on the link; "*" for every request
	Grant       string            `yaml:"grant"` // only token requests with this grant_type
	Times       int               `yaml:"times"` // only the first N matching requests; 0 = all
	MinStatus   int               `yaml:"min_status"`
	Status      int               `yaml:"status"`
	Body        string            `yaml:"body"`
	ContentType string            `yaml:"content_type"`
	Headers     map[string]string `yaml:"headers"`
	HeaderNames []string          `yaml:"header_names"`
	Truncate    int               `yaml:"truncate"`
	By          Duration          `yaml:"by" signed:"1"`
	Set         map[string]string `yaml:"set"`
}

// Heal removes the named faults ("all" removes every active one).
type Heal struct {
	Faults []string `yaml:"faults" req:"1"`
}

// Control performs a control-plane action on the AS, the API or the SPA host.
type Control struct {
	Target string         `yaml:"target" req:"1" enum:"as|api|spa"`
	Action string         `yaml:"action" req:"1"`
	Args   map[string]any `yaml:"args"`
}

// AdvanceClock moves a clock forward: both fixtures' ("stack"), the AS's or the API's.
type AdvanceClock struct {
	By     Duration `yaml:"by" req:"1"`
	Target string   `yaml:"target" enum:"stack|as|api"` // default stack
}

// TamperStorage changes the SPA's stored tokens the way its own rehearsal
// buttons would.
type TamperStorage struct {
	What string `yaml:"what" req:"1" enum:"expire_access_token|corrupt_access_token|corrupt_refresh_token|remove_refresh_token|clear"`
	Tab  string `yaml:"tab" ref:"tab"`
}

// ResetCounters sets every link counter back to zero, so that later counter
// expectations count from here.
type ResetCounters struct{}

// ---- expectations ----------------------------------------------------------

// Expect polls its checks until all hold, failing after Within.
type Expect struct {
	Within Duration `yaml:"within" req:"1"`
	Check  `yaml:",inline"`
}

// Hold checks that all its checks hold continuously for For.
type Hold struct {
	For   Duration `yaml:"for" req:"1"`
	Check `yaml:",inline"`
}

// Wait polls like Expect but is a precondition: failing it means the
// rehearsal could not reach the state it needs, not that the system misbehaved.
type Wait struct {
	Within Duration `yaml:"within" req:"1"`
	Check  `yaml:",inline"`
}

// Check is what an expectation looks at. Every subject given must hold.
type Check struct {
	UI            *UICheck         `yaml:"ui"`
	Counter       map[string]Count `yaml:"counter"`
	Response      *ResponseCheck   `yaml:"response"`
	Traffic       *TrafficCheck    `yaml:"traffic"`
	Storage       *StorageCheck    `yaml:"storage"`
	ConsoleErrors string           `yaml:"console_errors" enum:"none"`
	HistoryLacks  []string         `yaml:"history_lacks"`
	Log           *LogCheck        `yaml:"log"`
}

// UICheck is the SPA's visible state in one tab, read through its test roles.
type UICheck struct {
	Tab                  string            `yaml:"tab" ref:"tab"`
	SignedIn             string            `yaml:"signed_in"`        // user name
	NotSignedInAs        string            `yaml:"not_signed_in_as"` // never this user
	SignedOut            *bool             `yaml:"signed_out"`
	SignedOutReason      string            `yaml:"signed_out_reason" enum:"none|session_ended|signed_out"`
	ErrorPanel           *bool             `yaml:"error_panel"`
	ErrorCode            string            `yaml:"error_code"`
	ErrorID              string            `yaml:"error_id" enum:"present|absent"`
	ErrorMessageContains string            `yaml:"error_message_contains"`
	Views                map[string]string `yaml:"views"` // view role -> loading|ready|error
	Path                 string            `yaml:"path" kind:"path"`
	URLLacks             []string          `yaml:"url_lacks"`
	Page                 string            `yaml:"page" enum:"app|as_login|as_error|browser_error"`
	Loading              *bool             `yaml:"loading"`
	Disabled             []string          `yaml:"disabled" enum:"sign-in|sign-out|reload|error-retry"`
	Enabled              []string          `yaml:"enabled" enum:"sign-in|sign-out|reload|error-retry"`
}

// Count is a bound on a counter: `3` means exactly 3; a mapping gives
// at_least and/or at_most.
type Count struct {
	Exactly *int `yaml:"exactly" json:"exactly,omitempty"`
	AtLeast *int `yaml:"at_least" json:"at_least,omitempty"`
	AtMost  *int `yaml:"at_most" json:"at_most,omitempty"`
}

// Match checks one HTTP answer.
type Match struct {
	Status         int               `yaml:"status"`
	Headers        map[string]string `yaml:"headers"`      // header contains the text
	HeadersLack    map[string]string `yaml:"headers_lack"` // header, if present, lacks the text
	HeadersPresent []string          `yaml:"headers_present"`
	JSON           map[string]any    `yaml:"json"`          // top-level JSON fields equal
	JSONHas        []string          `yaml:"json_has"`      // top-level JSON fields present
	JSONIncludes   map[string]string `yaml:"json_includes"` // top-level JSON array holds the value
	LocationQuery  map[string]string `yaml:"location_query"`
	LocationLacks  []string          `yaml:"location_lacks"`
	TookAtMost     Duration          `yaml:"took_at_most"`
}

// ResponseCheck checks the answer to a call saved with save_as.
type ResponseCheck struct {
	Of    string `yaml:"of" req:"1" ref:"memory"`
	Match `yaml:",inline"`
}

// TrafficCheck checks the last exchange the HTTP proxy saw on a link that
// matches Request (written like a counter: "as:/token[refresh_token]").
type TrafficCheck struct {
	Request      string            `yaml:"request" req:"1" kind:"counter"`
	Query        map[string]string `yaml:"query"`
	QueryPresent []string          `yaml:"query_present"`
	QueryFresh   []string          `yaml:"query_fresh"` // differs from every earlier matching request
	Match        `yaml:",inline"`
}

// StorageCheck checks the SPA's stored tokens in one tab's browser context.
type StorageCheck struct {
	Tab          string            `yaml:"tab" ref:"tab"`
	AccessToken  string            `yaml:"access_token" enum:"present|absent"`
	RefreshToken string            `yaml:"refresh_token" enum:"present|absent"`
	IDToken      string            `yaml:"id_token" enum:"present|absent"`
	DiffersFrom  map[string]string `yaml:"differs_from" ref:"memory"` // slot -> remembered name
	SameAs       map[string]string `yaml:"same_as" ref:"memory"`      // slot -> remembered name
}

// LogCheck checks a fixture's log: the entry carrying the error id of a saved
// response (or of the id shown on the error panel, `of: ui`) contains a text.
type LogCheck struct {
	Target   string `yaml:"target" req:"1" enum:"as|api"`
	Of       string `yaml:"of"`
	Contains string `yaml:"contains" req:"1"`
}

func (*SignIn) stepName() string        { return "sign_in" }
func (*Open) stepName() string          { return "open" }
func (*Click) stepName() string         { return "click" }
func (*FillLogin) stepName() string     { return "fill_login" }
func (*ReloadPage) stepName() string    { return "reload_page" }
func (*Back) stepName() string          { return "back" }
func (*Forward) stepName() string       { return "forward" }
func (*OpenTab) stepName() string       { return "open_tab" }
func (*SwitchTab) stepName() string     { return "switch_tab" }
func (*CloseTab) stepName() string      { return "close_tab" }
func (*CallAPI) stepName() string       { return "call_api" }
func (*CallAS) stepName() string        { return "call_as" }
func (*Authorize) stepName() string     { return "authorize" }
func (*ExchangeCode) stepName() string  { return "exchange_code" }
func (*Remember) stepName() string      { return "remember" }
func (*Fault) stepName() string         { return "fault" }
func (*Heal) stepName() string          { return "heal" }
func (*Control) stepName() string       { return "control" }
func (*AdvanceClock) stepName() string  { return "advance_clock" }
func (*TamperStorage) stepName() string { return "tamper_storage" }
func (*ResetCounters) stepName() string { return "reset_counters" }
func (*Expect) stepName() string        { return "expect" }
func (*Hold) stepName() string          { return "hold" }
func (*Wait) stepName() string          { return "wait" }
