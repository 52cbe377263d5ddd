"""What may go into an SMS of text a person typed, and how carriers count an SMS.

A name, a note or a comment must never make a message carry a link (a resident would trust it: it
comes under the centre's signature), break a line, turn the text around (bidi marks), or fake a
second signature with 【】.
"""

from __future__ import annotations

import re
import unicodedata

SINGLE = 70  # characters of one SMS in UCS-2, which every Chinese SMS is
PART = 67  # characters of each part of a long (concatenated) SMS: the rest carries the join header
ELLIPSIS = "…"
_TRAILING = "。．.；;，,！!、 "
# Unicode categories never shown as text: controls (Cc: line breaks, tabs), format characters (Cf: bidi
# marks and isolates, zero-width joiners, soft hyphens), line and paragraph separators (Zl, Zp).
_BREAKS = {"Cc", "Zl", "Zp"}  # become a space: they separated words
_INVISIBLE = {"Cf"}  # vanish: they sat inside words
_BRACKETS = str.maketrans({"【": "", "】": "", "〖": "", "〗": ""})
_ALNUM = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_DOT = r"[.．。｡]"
# A scheme (http://, weixin://), `www.`, or something dotted that ends like a domain (example.com, t.cn/x).
_LINK = re.compile(
    rf"(?:[{_ALNUM}+.-]+(?::|：)//|www{_DOT})[^\s，。；、]*"
    rf"|[{_ALNUM}-]+(?:{_DOT}[{_ALNUM}-]+)*{_DOT}[A-Za-zＡ-Ｚａ-ｚ]{{2,}}(?:[/／:：][^\s，。；、]*)?",
)


def clean(text: str) -> str:
    """One line of visible text with no link and no signature brackets."""
    visible = "".join("" if unicodedata.category(c) in _INVISIBLE else
                      " " if unicodedata.category(c) in _BREAKS or c.isspace() else c
                      for c in unicodedata.normalize("NFC", text))
    unlinked = _LINK.sub("", visible.translate(_BRACKETS))
    return " ".join(unlinked.split())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, no closing punctuation (the template adds its own); longer ends in …"""
    flat = " ".join(text.split()).rstrip(_TRAILING)
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)].rstrip(_TRAILING) + ELLIPSIS


def billing_length(text: str) -> int:
    """Characters as carriers count them: UCS-2 units, so a character outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def billing_segments(text: str) -> int:
    """Messages billed: one up to 70 characters (signature included), else one per 67."""
    length = billing_length(text)
    return 1 if length <= SINGLE else -(-length // PART)
