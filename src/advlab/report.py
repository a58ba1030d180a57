"""Self-contained HTML report: explanations, ours-beside-paper tables and figures (embedded PNG)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advlab._io import write_text

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555;font-size:.92em}
.scale{background:#fff8e1;border-left:4px solid #f0b400;padding:.4em .8em}.intro{background:#f5f9ff;border-left:4px solid #3b7dd8;padding:.6em 1em}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape("—" if v is None else str(v))


def table_html(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def section_html(result: Any, figures: dict[str, Path]) -> str:
    parts = [f'<h2 id="{html.escape(result.name)}">{html.escape(result.title)}</h2>']
    parts += [f"<p>{html.escape(p)}</p>" for p in result.summary.split("\n\n") if p.strip()]
    if result.scale:
        parts.append(f'<p class="scale"><b>Scale we ran at:</b> {html.escape(result.scale)}</p>')
    if result.comparisons:
        parts.append("<h3>Ours beside the published numbers</h3>" + table_html([c.row() for c in result.comparisons]))
    for name, rows in result.tables.items():
        parts.append(f"<h3>{html.escape(name)}</h3>" + table_html(rows))
    for name, path in figures.items():
        cap = result.captions.get(name, "")
        parts.append(f"<figure>{_img(path)}<figcaption><b>{html.escape(name)}</b>. {html.escape(cap)}</figcaption></figure>")
    metrics = {k: v for k, v in result.metrics.items() if not isinstance(v, (list, dict)) or len(json.dumps(v, default=str)) < 2000}
    parts.append("<details><summary>metrics</summary><pre>" + html.escape(json.dumps(metrics, indent=2, default=str)) + "</pre></details>")
    return "\n".join(parts)


def write_report(path: str | Path, title: str, intro: str, sections: Sequence[tuple[Any, dict[str, Path]]]) -> Path:
    """Write one HTML page; ``intro`` paragraphs are separated by blank lines."""
    intro_html = "".join(f"<p>{html.escape(p)}</p>" for p in intro.split("\n\n") if p.strip())
    toc = "".join(f'<li><a href="#{html.escape(r.name)}">{html.escape(r.title)}</a></li>' for r, _ in sections)
    body = "\n".join(section_html(r, figs) for r, figs in sections)
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        + (f'<div class="intro">{intro_html}</div>' if intro_html else "")
        + (f"<ul>{toc}</ul>" if len(sections) > 1 else "")
        + body
        + "</body></html>"
    )
    return write_text(path, page)
