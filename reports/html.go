package reports

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// HTMLOptions adjust WriteHTML.
type HTMLOptions struct {
	// Dir is the folder the HTML file is written to; screenshot and evidence
	// links are relative to it, so the page and the evidence folder can be
	// moved or published together. Empty: the current directory.
	Dir string
	// Title heads the page. Empty: "Rehearsal report".
	Title string
	// Trend, if set, adds the flake trend section.
	Trend *TrendReport
}

type htmlPage struct {
	Title     string
	Generated string
	Run       Run
	Specs     []htmlSpec // every spec, for the table
	Problems  []htmlSpec // failed, errored and flaky specs, with details
	Trend     *TrendReport
}

type htmlSpec struct {
	Spec
	Suite     string
	Anchor    string
	LabelAttr string // labels joined by spaces for the filter
	Bundles   []htmlBundle
	Files     []htmlLink
}

type htmlBundle struct {
	Bundle
	Shots []htmlLink
}

type htmlLink struct{ Href, Text string }

// WriteHTML writes run as one self-contained HTML page (inline CSS and JS;
// screenshots are linked relatively from the evidence folders).
func WriteHTML(w io.Writer, run Run, opts HTMLOptions) error {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	page := htmlPage{Title: opts.Title, Run: run, Trend: opts.Trend, Generated: time.Now().UTC().Format(time.RFC3339)}
	if page.Title == "" {
		page.Title = "Rehearsal report"
	}
	n := 0
	for _, s := range run.Suites {
		for _, sp := range s.Specs {
			n++
			hs := htmlSpec{Spec: sp, Suite: s.Path, Anchor: fmt.Sprintf("spec-%d", n), LabelAttr: strings.Join(sp.Labels, " ")}
			if sp.Status == StatusFailed || sp.Status == StatusError || sp.Status == StatusFlaky {
				for _, b := range sp.Bundles {
					hb := htmlBundle{Bundle: b}
					for _, shot := range b.Screenshots {
						hb.Shots = append(hb.Shots, htmlLink{relURL(dir, shot.Path), shot.Phase})
					}
					hs.Bundles = append(hs.Bundles, hb)
				}
				for _, f := range sp.Evidence {
					hs.Files = append(hs.Files, htmlLink{relURL(dir, f), filepath.Base(f)})
				}
				page.Problems = append(page.Problems, hs)
			}
			page.Specs = append(page.Specs, hs)
		}
	}
	return htmlTemplate.Execute(w, page)
}

// relURL is path as a URL relative to dir, each segment escaped.
func relURL(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		rel = path
	}
	segs := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"namesID": func(name, id string) bool {
		id, _, _ = strings.Cut(id, "/")
		return id != "" && strings.HasPrefix(name, id+" ")
	},
	"dur": func(d time.Duration) string {
		if d < time.Second {
			return d.Round(time.Millisecond).String()
		}
		return d.Round(10 * time.Millisecond).String()
	},
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("15:04:05.000")
	},
	"json": func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return err.Error()
		}
		return string(b)
	},
	"claim": func(m map[string]any, k string) string {
		v, ok := m[k]
		if !ok {
			return ""
		}
		if f, ok := v.(float64); ok && (k == "exp" || k == "iat" || k == "nbf" || k == "auth_time") {
			return time.Unix(int64(f), 0).UTC().Format("15:04:05")
		}
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
}).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#1d1d1f}
h1{margin-bottom:.2em} .meta{color:#666}
.counts{display:flex;gap:1em;margin:1em 0}
.count{padding:.5em 1em;border-radius:6px;font-weight:600;background:#eee}
.count.passed{background:#dff5e1}.count.failed{background:#fde2e1}.count.flaky{background:#fff1cc}.count.skipped{background:#eceff3}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
.status{font-weight:600}.status.failed,.status.error{color:#b3261e}.status.flaky{color:#8a6100}.status.passed{color:#1e7b34}.status.skipped,.status.pending{color:#666}
.label{display:inline-block;background:#eef;border-radius:3px;padding:0 .35em;margin:0 .2em .1em 0;font-size:12px}
pre{background:#f6f8fa;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-word}
table.tokens td code{white-space:pre-wrap;word-break:break-all}
section.problem{border:1px solid #ddd;border-left:5px solid #b3261e;border-radius:4px;padding:.2em 1em 1em;margin:1.5em 0}
section.problem.flaky{border-left-color:#d4a000}
figure{display:inline-block;margin:.3em}figure img{max-width:360px;border:1px solid #ccc}
fieldset{border:1px solid #ddd;border-radius:4px}
.hidden{display:none}
code.repro{display:block;background:#1d1d1f;color:#f5f5f7;padding:.6em;border-radius:4px;word-break:break-all}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">{{range .Run.Suites}}<span>{{.Path}} ({{.Name}}, seed {{.Seed}}{{if .LabelFilter}}, label filter {{.LabelFilter}}{{end}})</span> {{end}}· started {{.Run.Start.UTC.Format "2006-01-02 15:04:05 MST"}} · {{dur .Run.Duration}}</p>
{{range .Run.Suites}}{{range .Reasons}}<p class="status failed">Suite failure: {{.}}</p>{{end}}{{end}}

<div class="counts" id="counts">
<span class="count passed" data-testid="count-passed">{{.Run.Counts.Passed}} passed</span>
<span class="count failed" data-testid="count-failed">{{.Run.Counts.Failed}} failed</span>
<span class="count flaky" data-testid="count-flaky">{{.Run.Counts.Flaky}} flaky</span>
<span class="count skipped" data-testid="count-skipped">{{.Run.Counts.Skipped}} skipped</span>
<span class="count" data-testid="count-total">{{.Run.Counts.Total}} total</span>
</div>

{{if .Run.Labels}}<fieldset id="label-filter"><legend>Filter by label (a spec is shown if it has any checked label; none checked shows all)</legend>
{{range .Run.Labels}}<label><input type="checkbox" value="{{.}}"> {{.}}</label> {{end}}
</fieldset>{{end}}

<h2>Specs</h2>
<table id="specs">
<thead><tr><th>status</th><th>scenario</th><th>spec</th><th>suite</th><th>time</th><th>labels</th></tr></thead>
<tbody>
{{range .Specs}}<tr class="spec" data-labels="{{.LabelAttr}}" data-status="{{.Status}}">
<td class="status {{.Status}}">{{.Status}}{{if gt .Attempts 1}} ({{.Attempts}} attempts){{end}}</td>
<td>{{.ScenarioID}}</td>
<td>{{if or (eq .Status "failed") (eq .Status "error") (eq .Status "flaky")}}<a href="#{{.Anchor}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}{{if and (eq .Status "skipped") .Message}}<br><small>{{.Message}}</small>{{end}}</td>
<td>{{.Suite}}</td>
<td>{{dur .Duration}}</td>
<td>{{range .Labels}}<span class="label">{{.}}</span>{{end}}</td>
</tr>
{{end}}</tbody>
</table>

{{if .Problems}}<h2>Failed and flaky specs</h2>{{end}}
{{range .Problems}}
<section class="problem {{.Status}} spec" id="{{.Anchor}}" data-labels="{{.LabelAttr}}" data-status="{{.Status}}">
<h3><span class="status {{.Status}}">{{.Status}}</span> {{if and .ScenarioID (not (namesID .Name .ScenarioID))}}{{.ScenarioID}} · {{end}}<span class="name">{{.Name}}</span></h3>
<p class="meta">{{.Classname}} · <span class="location">{{.File}}:{{.Line}}</span> · {{dur .Duration}} · attempt {{.Attempts}}</p>
{{if .Message}}<h4>Failure</h4><pre class="message">{{.Message}}</pre><p>at <code class="failure-location">{{.Location}}</code></p>{{end}}
{{range .EarlierFailures}}<details><summary>earlier attempt failed at {{.Location}}</summary><pre>{{.Message}}</pre></details>{{end}}
{{if .Repro}}<h4>Repro</h4><code class="repro">{{.Repro}}</code>{{end}}
{{range .Bundles}}
{{if .Shots}}<h4>Screenshots</h4><div class="screenshots">{{range .Shots}}<figure><a href="{{.Href}}"><img src="{{.Href}}" alt="screenshot: {{.Text}}"></a><figcaption>{{.Text}}</figcaption></figure>{{end}}</div>{{end}}
{{if .Faults}}<h4>Faults</h4><table class="faults"><tr><th>layer</th><th>link</th><th>fault</th><th>applied</th><th>removed</th><th>params</th></tr>
{{range .Faults}}<tr><td>{{.Layer}}</td><td>{{.Link}}</td><td>{{.Name}}</td><td>{{clock .Applied}}</td><td>{{if .Removed}}{{clock .Removed}}{{else}}still active{{end}}</td><td>{{if .Params}}{{json .Params}}{{end}}</td></tr>{{end}}</table>{{end}}
{{if .Control}}<h4>Control-plane actions</h4><table class="control"><tr><th>time</th><th>target</th><th>action</th><th>params</th><th>error</th></tr>
{{range .Control}}<tr><td>{{clock .Time}}</td><td>{{.Target}}</td><td>{{.Action}}</td><td>{{if .Params}}{{json .Params}}{{end}}</td><td>{{.Error}}</td></tr>{{end}}</table>{{end}}
{{if .Tokens}}<h4>Token timeline</h4><table class="tokens"><tr><th>time</th><th>kind</th><th>source</th><th>token</th><th>kid</th><th>iat</th><th>exp</th><th>claims</th></tr>
{{range .Tokens}}<tr><td>{{clock .Time}}</td><td>{{.Kind}}</td><td>{{.Source}}</td><td><code>{{.Fingerprint}}</code></td><td>{{claim .Header "kid"}}</td><td>{{claim .Claims "iat"}}</td><td>{{claim .Claims "exp"}}</td><td>{{if .Opaque}}opaque{{else}}<code>{{json .Claims}}</code>{{end}}</td></tr>{{end}}</table>{{end}}
{{if .Counters}}<h4>Counters</h4><table class="counters">{{range .Counters}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{end}}
{{if .Files}}<details><summary>Evidence files ({{len .Files}})</summary><ul>{{range .Files}}<li><a href="{{.Href}}">{{.Text}}</a></li>{{end}}</ul></details>{{end}}
{{if .Output}}<details><summary>Captured output</summary><pre>{{.Output}}</pre></details>{{end}}
</section>
{{end}}

{{with .Trend}}{{template "trend" .}}{{end}}

<script>
(function () {
  var boxes = document.querySelectorAll('#label-filter input[type=checkbox]');
  function apply() {
    var on = [];
    boxes.forEach(function (b) { if (b.checked) on.push(b.value); });
    document.querySelectorAll('.spec').forEach(function (el) {
      var labels = (el.getAttribute('data-labels') || '').split(' ');
      var show = on.length === 0 || on.some(function (l) { return labels.indexOf(l) >= 0; });
      el.classList.toggle('hidden', !show);
    });
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  document.body.setAttribute('data-filter-ready', 'true');
  apply();
})();
</script>
</body>
</html>
{{define "trend"}}
<h2 id="trend">Flake trend ({{len .Runs}} runs)</h2>
<p class="meta">{{if ge .LastGreen 0}}last green run: {{(index .Runs .LastGreen).Name}}{{else}}no green run in this window{{end}}{{if .NewFailures}} · new failures since then: {{range .NewFailures}}<span class="label">{{.}}</span>{{end}}{{end}}</p>
<table class="trend"><thead><tr><th>suite</th><th>scenario</th><th>runs</th><th>failures</th><th>flaky</th><th>flake rate</th><th>p50</th><th>p95</th><th>last</th><th>history (old → new)</th></tr></thead><tbody>
{{range .Scenarios}}<tr><td>{{.Suite}}</td><td>{{.Key}}{{if .NewFailure}} <strong class="status failed">new failure</strong>{{end}}</td><td>{{.Runs}}</td><td>{{.Failures}}</td><td>{{.Flakes}}</td><td>{{pct .FlakeRate}}</td><td>{{dur .P50}}</td><td>{{dur .P95}}</td><td class="status {{.Last}}">{{.Last}}</td><td>{{range .History}}<span class="status {{.}}" title="{{.}}">{{if eq . "passed"}}✔{{else if eq . "flaky"}}~{{else if or (eq . "failed") (eq . "error")}}✘{{else if eq . ""}}·{{else}}-{{end}}</span>{{end}}</td></tr>
{{end}}</tbody></table>
{{end}}
`
