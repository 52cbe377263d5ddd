"""A4 PDFs in Simplified Chinese, as intake's printed documents and audit's case dossier are made: fpdf2 with a
Noto Sans SC subset embedded, so the file prints the same on any machine.

What anyone typed is drawn as text, never read as markup; a character the font lacks is marked, not dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from fpdf import FPDF
from fpdf.enums import Align, TextMode, XPos, YPos

from services.kit.auth import ConfigurationError

FAMILY = "bianmin-sc"
LINE_MM = 9.0
# Glyphs every document needs: a font without them would print empty boxes.
_PROOF = "受理回执一次性告知书不予通知转介单申请人办件编号补齐材料行政复议诉讼第二次审计档案哈希签名证明时间线"
MISSING_GLYPH = "〓"
_NO_LINE_START = "，。、；：？！）》」』】〉”’…·,.;:?!)%"


def check_font(path: Path, *, setting: str) -> None:
    """Refuses a start without a usable Simplified-Chinese font: a PDF of empty boxes helps no one.
    `setting` names the variable that points at the font, for the message."""
    if not path.is_file():
        raise ConfigurationError(f"no Chinese font for printed documents at {path}: run `make install` "
                                 f"or set {setting} to a Simplified-Chinese TrueType/OpenType font")
    try:
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (TTLibError, OSError, AssertionError) as exc:
        raise ConfigurationError(f"{setting} {path} is not a readable TrueType/OpenType font: {exc}") from exc
    missing = "".join(ch for ch in _PROOF if ord(ch) not in cmap)
    if missing:
        raise ConfigurationError(f"the font at {path} lacks Simplified-Chinese glyphs ({missing}); "
                                 f"set {setting} to a font that covers GB 2312")


def wrap(text: str, width_of: Callable[[str], float], width: float) -> list[str]:
    """Lines of at most `width`, broken at any character as Chinese text is; a punctuation mark that
    may not begin a line (避头尾) hangs at the end of the one before instead, into the margin.

    Widths add up character by character (no kerning is applied), so each character is measured once:
    measuring the growing line at every character made a page of hashes take seconds."""
    lines: list[str] = []
    widths: dict[str, float] = {}
    for paragraph in text.split("\n"):
        if width_of(paragraph) <= width:
            lines.append(paragraph)
            continue
        line, used = "", 0.0
        for ch in paragraph:
            if ch not in widths:
                widths[ch] = width_of(ch)
            hangs = ch in _NO_LINE_START and used <= width  # one mark at most
            if line and used + widths[ch] > width and not hangs:
                lines.append(line)
                line, used = "", 0.0
            line += ch
            used += widths[ch]
        lines.append(line)
    return lines


class Writer:
    """One A4 document with the font embedded: lines of text, wrapped, in the size and weight asked."""

    def __init__(self, font: Path, *, title: str, created_at: datetime, body_pt: int) -> None:
        pdf = FPDF(format="A4")
        pdf.set_margins(20, 18, 20)
        pdf.set_auto_page_break(True, margin=22)
        pdf.add_font(FAMILY, fname=str(font))
        pdf.set_font(FAMILY, size=body_pt)
        self._glyphs: dict[int, str] = getattr(pdf.current_font, "cmap", {})
        pdf.set_title(title)
        pdf.set_lang("zh-CN")
        pdf.set_creator("bianmin")
        pdf.set_creation_date(created_at)
        self.pdf = pdf

    def footer(self, text: Callable[[], str], *, size: int) -> None:
        """A line at the foot of every page (the page number is the caller's to put in)."""
        pdf = self.pdf

        def page_footer() -> None:
            pdf.set_y(-16)
            pdf.set_font(FAMILY, size=size)
            pdf.cell(0, 6, text(), align=Align.C)

        pdf.footer = page_footer  # type: ignore[method-assign]  # fpdf2's hook is a method to override

    def line(self, text: str, *, size: int, align: Align = Align.L, bold: bool = False, height: float = LINE_MM) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, size=size)
        # A character the font lacks (a rare 生僻字 in a name) would vanish without a trace: 〓 marks the
        # place, so staff write it in by hand.
        text = "".join(ch if ord(ch) in self._glyphs or ch == "\n" else MISSING_GLYPH for ch in text)
        # One weight is embedded; a thin outline stroke makes titles and headings heavier instead.
        with pdf.local_context(text_mode=TextMode.FILL_STROKE if bold else TextMode.FILL, line_width=0.3):
            for part in wrap(text, pdf.get_string_width, pdf.epw - 2 * pdf.c_margin):
                pdf.cell(pdf.epw, height, part, align=align, markdown=False, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
