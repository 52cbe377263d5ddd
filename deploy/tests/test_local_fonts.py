"""The documents' font as `make install` leaves it: the files match their pins, a changed copy is fetched again."""

from __future__ import annotations

import shutil

import pytest

from deploy import local_fonts

pytestmark = pytest.mark.unit


def test_installed_fonts_match_their_pins():
    assert local_fonts.FONT_FILE.is_file(), "run `make install`"
    assert local_fonts._have_fonts()
    assert (local_fonts.FONTS / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE Version 1.1") == 1


def test_a_changed_or_missing_file_counts_as_not_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(local_fonts, "FONTS", tmp_path)
    assert not local_fonts._have_fonts()
    for name, _ in local_fonts.KEEP.values():
        shutil.copy(local_fonts.FONT_FILE.parent / name, tmp_path / name)
    assert local_fonts._have_fonts()
    with open(tmp_path / "OFL.txt", "a", encoding="utf-8") as licence:
        licence.write("\n")
    assert not local_fonts._have_fonts()
