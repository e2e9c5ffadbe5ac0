"""The report's stylesheet: one page for the screen and for print (A4, WeasyPrint)."""

from __future__ import annotations

from ...core.status import NO_DATA
from ..style import STATUS_COLOURS

FONTS = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
         '"WenQuanYi Micro Hei", sans-serif')


def css() -> str:
    """The stylesheet: A4 pages with page numbers, verdict badges in the palette's colours, and
    tables that break cleanly across printed pages."""
    status = "".join(f".s-{s}{{background:{c};color:{'#000' if s == NO_DATA else '#fff'}}}"
                     for s, c in STATUS_COLOURS.items())
    return f"""
@page {{ size: A4; margin: 14mm 12mm 16mm;
  @bottom-center {{ content: counter(page) " / " counter(pages); font-size: 8pt; }} }}
html {{ font-family: {FONTS}; font-size: 10pt; line-height: 1.4; color: #111; }}
body {{ margin: 0 auto; max-width: 60em; padding: 0 1em; }}
h1 {{ font-size: 18pt; margin: .2em 0; line-height: 1.3; }}
h1 small {{ font-size: 11pt; font-weight: normal; }}
h2 {{ font-size: 14pt; border-bottom: 1px solid #999; margin-top: 1.2em; }}
h3 {{ font-size: 11pt; margin: 1em 0 .4em; }}
dl.meta, dl.facts {{ display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }}
dl.meta dt, dl.facts dt {{ font-weight: bold; }} dl.meta dd, dl.facts dd {{ margin: 0; }}
.reference-note {{ border: 2px solid #b35806; background: #fee0b6; padding: .4em .6em;
  font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; margin: .3em 0 .8em; font-size: 8.5pt; }}
th, td {{ border: 1px solid #bbb; padding: .15em .35em; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }}
th {{ background: #eee; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
td.num {{ text-align: right; white-space: nowrap; }}
table.findings, table.declaration, table.rules, table.methods {{ table-layout: fixed; }}
table.rules th:nth-child(1) {{ width: 16%; }} table.rules th:nth-child(2) {{ width: 24%; }}
table.rules th:nth-child(3) {{ width: 14%; }} table.methods th:nth-child(1) {{ width: 70%; }}
table.declaration th:nth-child(1) {{ width: 9%; }}
table.declaration th:nth-child(2) {{ width: 16%; }}
table.declaration th:nth-child(3), table.declaration th:nth-child(4) {{ width: 9%; }}
table.declaration th:nth-child(5) {{ width: 6%; }}
table.declaration th:nth-child(6) {{ width: 22%; }}
table.findings th:nth-child(1) {{ width: 11%; }} table.findings th:nth-child(2) {{ width: 22%; }}
table.findings th:nth-child(3) {{ width: 9%; }} table.findings th:nth-child(4) {{ width: 11%; }}
table.findings th:nth-child(5) {{ width: 17%; }}
.badge {{ font-weight: bold; white-space: nowrap; }}
.badge {{ padding: 0 .4em; border-radius: 3px; }}
{status}
.badge {{ -webkit-print-color-adjust: exact; }}
section.estate {{ break-before: page; }}
figure {{ margin: .5em 0; }} figure img {{ max-width: 100%; height: auto; }}
figure.estate-map img {{ max-height: 120mm; }}
p.no-map {{ color: #555; font-style: italic; }}
.toc-estates {{ columns: 2; font-size: 9pt; }}
.budget-note {{ border: 2px solid #0b4f8a; background: #deebf7; padding: .4em .6em; }}
table.all-estates {{ table-layout: fixed; margin: 0; }}
table.all-estates th:first-child {{ width: 15%; }}
table.all-estates th:nth-last-child(5) {{ width: 11%; }}
table.all-estates th:nth-last-child(-n+4) {{ width: 9%; }}
table.all-estates td:nth-last-child(-n+4) {{ text-align: right; }}
table.all-estates td[class^="s-"] {{ -webkit-print-color-adjust: exact; }}
details > summary {{ font-weight: bold; }}
tr.group td:first-child {{ font-size: 8pt; }}
@media screen {{
  details > summary {{ cursor: pointer; }}
  section.estate {{ content-visibility: auto; contain-intrinsic-size: auto 60em; }}
  #all-estates div.rows {{ content-visibility: auto; contain-intrinsic-size: auto 700em; }}
}}
a {{ color: #0b4f8a; }}
"""
