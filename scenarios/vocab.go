package scenarios

import (
	"slices"
	"sort"
)

// stepSpec describes one word of the closed step vocabulary.
type stepSpec struct {
	name        string
	new         func() Action
	scalar      string // the field a scalar (or list) value fills: `heal: f1`; "" if none
	bare        bool   // may be written with no arguments: `- reload_page`
	expectation bool   // expect, hold, wait
	doc         string // one line, used by the schema
}

var vocabulary = []stepSpec{
	{name: "sign_in", new: func() Action { return &SignIn{} }, scalar: "user",
		doc: "open `from` (default /), click sign-in, fill the AS form as `user`"},
	{name: "open", new: func() Action { return &Open{} }, scalar: "path",
		doc: "navigate the current tab to an SPA path"},
	{name: "click", new: func() Action { return &Click{} }, scalar: "role",
		doc: "click a test role (sign-in, sign-out, reload, error-retry), in the current tab or in `tabs` at once"},
	{name: "fill_login", new: func() Action { return &FillLogin{} }, scalar: "user",
		doc: "fill and submit the AS sign-in form showing in the current tab"},
	{name: "reload_page", new: func() Action { return &ReloadPage{} }, scalar: "tabs", bare: true,
		doc: "reload the current tab (or `tabs` at once)"},
	{name: "back", new: func() Action { return &Back{} }, scalar: "tab", bare: true,
		doc: "browser Back"},
	{name: "forward", new: func() Action { return &Forward{} }, scalar: "tab", bare: true,
		doc: "browser Forward"},
	{name: "open_tab", new: func() Action { return &OpenTab{} }, scalar: "name",
		doc: "open a named tab in the same browser context and make it current"},
	{name: "switch_tab", new: func() Action { return &SwitchTab{} }, scalar: "name",
		doc: "make a named tab current (the first tab is `main`)"},
	{name: "close_tab", new: func() Action { return &CloseTab{} }, scalar: "name",
		doc: "close a named tab"},
	{name: "call_api", new: func() Action { return &CallAPI{} },
		doc: "call the API directly with a chosen token and save the answer"},
	{name: "call_as", new: func() Action { return &CallAS{} },
		doc: "call an AS endpoint directly and save the answer"},
	{name: "authorize", new: func() Action { return &Authorize{} },
		doc: "run authorize and the AS sign-in without the browser; save code and verifier"},
	{name: "exchange_code", new: func() Action { return &ExchangeCode{} },
		doc: "exchange a saved code at the token endpoint with the right, a wrong or no verifier"},
	{name: "remember", new: func() Action { return &Remember{} },
		doc: "save the SPA's stored tokens under names"},
	{name: "fault", new: func() Action { return &Fault{} },
		doc: "inject a fault on a link at the network, http or browser layer"},
	{name: "heal", new: func() Action { return &Heal{} }, scalar: "faults",
		doc: "remove named faults, or `all`"},
	{name: "control", new: func() Action { return &Control{} },
		doc: "a control-plane action on the AS, the API or the SPA host"},
	{name: "advance_clock", new: func() Action { return &AdvanceClock{} }, scalar: "by",
		doc: "move the stack's (or one fixture's) clock forward"},
	{name: "tamper_storage", new: func() Action { return &TamperStorage{} }, scalar: "what",
		doc: "expire, corrupt or remove a stored token the way the SPA's rehearsal buttons do"},
	{name: "reset_counters", new: func() Action { return &ResetCounters{} }, bare: true,
		doc: "zero every link counter"},
	{name: "expect", new: func() Action { return &Expect{} }, expectation: true,
		doc: "poll the checks until they all hold, for at most `within`"},
	{name: "hold", new: func() Action { return &Hold{} }, expectation: true,
		doc: "the checks hold for the whole of `for`"},
	{name: "wait", new: func() Action { return &Wait{} }, expectation: true,
		doc: "a precondition: poll the checks for at most `within`"},
}

func stepByName(name string) (stepSpec, bool) {
	for _, s := range vocabulary {
		if s.name == name {
			return s, true
		}
	}
	return stepSpec{}, false
}

// StepNames returns every word of the step vocabulary, sorted.
func StepNames() []string {
	out := make([]string, 0, len(vocabulary))
	for _, s := range vocabulary {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}

// faultKind says which layer a fault kind belongs to and which parameters it
// takes. name and stream are always allowed (stream only on network faults).
type faultKind struct {
	layer        string
	required     []string
	optional     []string
	linkOptional bool
}

var httpMatch = []string{"match", "grant", "times", "min_status"}

var faultKinds = map[string]faultKind{
	// network: toxiproxy toxics on the link
	"down":       {layer: "network"},
	"latency":    {layer: "network", required: []string{"latency"}, optional: []string{"jitter"}},
	"bandwidth":  {layer: "network", required: []string{"rate_kbps"}},
	"slow_close": {layer: "network", required: []string{"delay"}},
	"timeout":    {layer: "network", optional: []string{"timeout"}}, // no timeout: a black hole
	"reset_peer": {layer: "network", optional: []string{"timeout"}},
	"slicer":     {layer: "network", required: []string{"average_size"}, optional: []string{"size_variation", "delay"}},
	"limit_data": {layer: "network", required: []string{"bytes"}},
	// http: the fault-and-observation proxy on the link
	"respond":               {layer: "http", required: []string{"status"}, optional: append([]string{"body", "content_type", "headers"}, httpMatch...)},
	"delay":                 {layer: "http", required: []string{"by"}, optional: httpMatch},
	"drop_response":         {layer: "http", optional: httpMatch},
	"strip_headers":         {layer: "http", required: []string{"header_names"}, optional: httpMatch},
	"set_headers":           {layer: "http", required: []string{"headers"}, optional: httpMatch},
	"add_request_headers":   {layer: "http", required: []string{"headers"}, optional: httpMatch},
	"strip_request_headers": {layer: "http", required: []string{"header_names"}, optional: httpMatch},
	"corrupt_body":          {layer: "http", required: []string{"truncate"}, optional: httpMatch},
	// browser: Chrome DevTools Protocol
	"offline":                   {layer: "browser", linkOptional: true},
	"block_urls":                {layer: "browser", required: []string{"match"}},
	"rewrite_query":             {layer: "browser", required: []string{"match", "set"}},
	"rewrite_form":              {layer: "browser", required: []string{"match", "set"}},
	"block_third_party_cookies": {layer: "browser"},
	"clock_offset":              {layer: "browser", required: []string{"by"}, linkOptional: true},
}

// FaultKinds returns the fault kinds of one layer ("" for all), sorted.
func FaultKinds(layer string) []string {
	var out []string
	for k, fk := range faultKinds {
		if layer == "" || fk.layer == layer {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// argType is the type of one control-action argument.
type argType string

const (
	argString   argType = "string"
	argDuration argType = "duration"
	argBool     argType = "bool"
)

type controlAction struct {
	targets  []string
	args     map[string]argType
	required []string
	anyOf    bool // at least one argument
	enums    map[string][]string
	doc      string
}

var controlActions = map[string]controlAction{
	"publish_key":  {targets: []string{"as"}, args: map[string]argType{"key": argString}, required: []string{"key"}, doc: "add a key to the JWKS without signing with it"},
	"activate_key": {targets: []string{"as"}, args: map[string]argType{"key": argString}, required: []string{"key"}, doc: "sign new tokens with a published key"},
	"retire_key":   {targets: []string{"as"}, args: map[string]argType{"key": argString}, required: []string{"key"}, doc: "remove a key from the JWKS"},
	"rotate_now":   {targets: []string{"as"}, args: map[string]argType{"key": argString}, required: []string{"key"}, doc: "emergency rotation: publish a new key and sign with it at once"},
	"restart":      {targets: []string{"as", "api"}, args: map[string]argType{}, doc: "AS: fresh keys and an empty store; API: empty key-set cache"},
	"revoke_sessions": {targets: []string{"as"}, args: map[string]argType{"user": argString}, required: []string{"user"},
		doc: "revoke every grant and session of a user (admin revoke, password change)"},
	"end_session": {targets: []string{"as"}, args: map[string]argType{"user": argString}, required: []string{"user"},
		doc: "end the user's browser session at the AS (grants stay)"},
	"set_lifetimes": {targets: []string{"as"}, anyOf: true, args: map[string]argType{
		"access_token": argDuration, "id_token": argDuration, "refresh_token_idle": argDuration, "refresh_token_absolute": argDuration},
		doc: "token lifetimes for tokens issued from now on"},
	"set_refresh_policy": {targets: []string{"as"}, anyOf: true, args: map[string]argType{
		"rotation": argBool, "reuse_detection": argBool, "grace": argDuration},
		doc: "refresh-token rotation, reuse detection and grace window"},
	"next_authorization": {targets: []string{"as"}, anyOf: true, args: map[string]argType{
		"error": argString, "error_description": argString, "drop_scope": argString},
		enums: map[string][]string{"error": {"access_denied", "invalid_scope", "login_required", "server_error", "temporarily_unavailable"}},
		doc:   "answer the next authorization request with an error (genuine state) or grant it without a scope"},
	"set_token_audience": {targets: []string{"as"}, args: map[string]argType{"audience": argString}, required: []string{"audience"},
		doc: "mint access tokens for another audience"},
	"alter_id_token": {targets: []string{"as"}, args: map[string]argType{"claim": argString, "value": argString, "remove": argBool, "during": argString},
		required: []string{"claim"}, enums: map[string][]string{"during": {"sign_in", "refresh"}},
		doc: "change or remove one ID-token claim on the next sign-in (or refresh)"},
	"alter_userinfo": {targets: []string{"as"}, args: map[string]argType{"sub": argString}, required: []string{"sub"},
		doc: "answer userinfo with another sub"},
	"sign_id_token": {targets: []string{"as"}, args: map[string]argType{"with": argString}, required: []string{"with"},
		enums: map[string][]string{"with": {"foreign_key", "alg_none"}},
		doc:   "sign the next ID token with a foreign key, or issue it unsigned"},
	"set_jwks_max_age": {targets: []string{"as"}, args: map[string]argType{"max_age": argDuration}, required: []string{"max_age"},
		doc: "serve the JWKS with Cache-Control max-age"},
	"set_expected_issuer": {targets: []string{"api"}, args: map[string]argType{"issuer": argString}, required: []string{"issuer"},
		doc: "make the API expect another issuer"},
	"set_scope": {targets: []string{"spa"}, args: map[string]argType{"scope": argString}, required: []string{"scope"},
		doc: "make the SPA ask for another scope from its next page load on"},
}

// ControlActions returns the control actions a target offers, sorted.
func ControlActions(target string) []string {
	var out []string
	for name, a := range controlActions {
		if target == "" || slices.Contains(a.targets, target) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
