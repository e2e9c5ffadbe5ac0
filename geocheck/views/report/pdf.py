"""report.pdf: the HTML report printed to A4 with WeasyPrint (an optional dependency)."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import GeocheckError

PDF_INSTALL = ('writing the PDF report needs WeasyPrint: pip install "geocheck[pdf]" '
               "(WeasyPrint also needs Pango: on Debian, "
               "apt-get install libpango-1.0-0 libpangoft2-1.0-0)")


def write_pdf(html_text: str, path: Path) -> Path:
    """Print an HTML report (from :func:`render_report`) to a PDF (A4) with WeasyPrint.

    WeasyPrint lays out some two to six pages a second (the 12-estate sample: 72 pages in
    12 to 35 s, by machine), so a PDF of a city of thousands of estates takes the better part
    of an hour; its HTML report is the one to share.

    Raises
    ------
    GeocheckError
        When WeasyPrint (or the Pango library it needs) is not installed.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint is there but Pango is not
        raise GeocheckError(PDF_INSTALL) from exc
    path = Path(path)
    weasyprint.HTML(string=html_text, base_url=None).write_pdf(path)
    return path
