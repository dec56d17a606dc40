"""Page assembly: the sections as one HTML document with the chart library, the chart specs and the styles
inline, so the file opens offline. Tables are plain HTML (readable without scripts, found by the browser's find)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from trainplan.report.limits import OPEN_TABLE_ROWS
from trainplan.report.tables import Figure, Section, Table

STYLE = """
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --line: #d9dee3; --band: #f5f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0;
  background: #fff; }
header.top { background: #16324f; color: #fff; padding: 18px 32px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top p { margin: 0; color: #c9d6e3; }
nav { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; }
nav a { margin-right: 18px; color: #16324f; text-decoration: none; font-weight: 600; }
main { max-width: 1320px; padding: 8px 32px 48px; }
section { border-bottom: 1px solid var(--line); padding: 10px 0 18px; }
h2 { font-size: 19px; margin: 14px 0 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.intro { color: var(--muted); max-width: 980px; margin: 0 0 8px; }
p.message { background: var(--band); border-left: 4px solid #16324f; padding: 10px 14px; max-width: 980px; }
p.note { color: #8a4b00; margin: 2px 0 6px; }
figure { margin: 0 0 18px; }
.chart { overflow-x: auto; max-width: 100%; }
details.numbers { margin: 6px 0 10px; }
details.numbers summary { cursor: pointer; color: #16324f; font-weight: 600; }
input.filter { margin: 6px 0; padding: 4px 8px; width: 280px; border: 1px solid var(--line); border-radius: 4px; }
.scroll { max-height: 460px; overflow: auto; border: 1px solid var(--line); }
table { border-collapse: collapse; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 6px; caption-side: top; }
caption small { font-weight: 400; color: var(--muted); }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--band); position: sticky; top: 0; z-index: 1; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td { max-width: 520px; overflow-wrap: break-word; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.header td:first-child { color: var(--muted); }
footer { color: var(--muted); padding: 16px 32px; }
"""

SCRIPT = """
(function () {
  var specs = JSON.parse(document.getElementById('report-specs').textContent);
  var nodes = Array.prototype.slice.call(document.querySelectorAll('[data-chart]'));
  var jobs = nodes.map(function (node) {
    var spec = specs[node.getAttribute('data-chart')];
    var renderer = (spec.usermeta && spec.usermeta.renderer) || 'svg';
    return vegaEmbed(node, spec, {actions: false, renderer: renderer}).then(function (result) {
      node.setAttribute('data-rendered', renderer);
      return result;
    });
  });
  Promise.allSettled(jobs).then(function (results) {
    var failed = results.filter(function (r) { return r.status === 'rejected'; });
    failed.forEach(function (r) { console.error('chart failed:', r.reason); });
    document.body.setAttribute('data-charts-rendered', String(results.length - failed.length));
    document.body.setAttribute('data-charts-failed', String(failed.length));
  });
  document.querySelectorAll('input.filter').forEach(function (input) {
    input.addEventListener('input', function () {
      var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var rows = document.getElementById(input.getAttribute('data-table')).tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var text = rows[i].textContent.toLowerCase();
        rows[i].hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      }
    });
  });
})();
"""


@cache
def chart_library() -> tuple[str, str]:
    """(Vega-Lite version, the vega + vega-lite + vega-embed bundle): vl-convert ships the sources and bundles them
    locally, at the Vega-Lite version Altair writes its specs for."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    version = vl_version_for_vl_convert()
    return version, vl_convert.javascript_bundle(vl_version=version)


def _inline_script(code: str) -> str:
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


def _json_for_html(value: Any) -> str:
    """JSON that cannot end its <script> element early."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def cell(value: Any) -> tuple[str, bool]:
    """A value as the table shows it, and whether it is a number (right-aligned)."""
    if value is None:
        return "—", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        return (f"{value:,.4f}" if value == value else "NaN"), True
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value), False
    return str(value), False


def render_table(t: Table, key: str, css: str = "") -> str:
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in t.columns)
    body = []
    for row in t.rows:
        cells = []
        for value in row:
            text, numeric = cell(value)
            cells.append(f'<td class="n">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not t.rows:
        body.append(f'<tr><td colspan="{len(t.columns)}">none</td></tr>')
    note = f" <small>({html.escape(t.note)})</small>" if t.note else ""
    klass = f' class="{css}"' if css else ""
    return (
        f'<table id="{key}"{klass}><caption>{html.escape(t.caption)}{note}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _numbers(t: Table, key: str) -> str:
    rows = len(t.rows)
    label = f"Numbers: {html.escape(t.caption)} ({rows:,} row{'s' if rows != 1 else ''})"
    opened = " open" if rows <= OPEN_TABLE_ROWS else ""
    search = (
        f'<input type="search" class="filter" data-table="{key}" placeholder="filter rows" '
        f'aria-label="Filter the rows of {html.escape(t.caption)}">'
        if rows > OPEN_TABLE_ROWS
        else ""
    )
    return (
        f'<details class="numbers"{opened}><summary>{label}</summary>{search}'
        f'<div class="scroll">{render_table(t, key)}</div></details>'
    )


def _figure(f: Figure) -> str:
    parts = [f'<figure id="{f.key}"><h3>{html.escape(f.title)}</h3>']
    if f.note and f.chart is None:
        parts.append(f'<p class="note">{html.escape(f.note)}</p>')
    if f.chart is not None:
        label = html.escape(f.title + (f" ({f.note})" if f.note else ""))
        parts.append(f'<div class="chart" data-chart="{f.key}" role="img" aria-label="{label}"></div>')
    for i, t in enumerate(f.tables):
        parts.append(_numbers(t, f"{f.key}-table-{i + 1}"))
    parts.append("</figure>")
    return "".join(parts)


def _section(number: int, s: Section) -> str:
    parts = [f'<section id="{s.key}"><h2>{number}. {html.escape(s.title)}</h2>']
    if s.intro:
        parts.append(f'<p class="intro">{html.escape(s.intro)}</p>')
    if s.message:
        parts.append(f'<p class="message">{html.escape(s.message)}</p>')
    parts.extend(_figure(f) for f in s.figures)
    parts.append("</section>")
    return "".join(parts)


def chart_specs(sections: Sequence[Section]) -> dict[str, dict[str, Any]]:
    return {f.key: f.chart for s in sections for f in s.figures if f.chart is not None}


def render_page(title: str, subtitle: str, header: Table, sections: Sequence[Section], footer: str) -> str:
    version, bundle = chart_library()
    nav = "".join(
        f'<a href="#{key}">{i}. {html.escape(name)}</a>'
        for i, (key, name) in enumerate([("plan", "Plan"), *((s.key, s.title) for s in sections)], start=1)
    )
    body = "".join(_section(i, s) for i, s in enumerate(sections, start=2))
    plan = f'<section id="plan"><h2>1. Plan</h2>{render_table(header, "plan-table", "header")}</section>'
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><title>{html.escape(title)}</title><style>{STYLE}</style>'
        f"<script>/* vega, vega-lite {html.escape(version)}, vega-embed */\n{_inline_script(bundle)}</script></head>"
        f'<body><header class="top"><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>'
        f"<nav>{nav}</nav><main>{plan}{body}</main><footer>{html.escape(footer)}</footer>"
        f'<script type="application/json" id="report-specs">{_json_for_html(chart_specs(sections))}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
