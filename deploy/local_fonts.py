"""The Chinese font the printed documents embed: Noto Sans SC Regular (SIL OFL 1.1), from the npm
registry's `@expo-google-fonts/noto-sans-sc` package, pinned by version and sha256.

`make install` (python deploy/local.py fonts) downloads the tarball straight from the registry (no npm
needed) and puts the font in .local/fonts/ with its licence; nothing of it is
committed. The tarball holds nine weights (57 MB); only the one the documents use is kept.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from deploy.local_common import SHARED_LOCAL, InfraError, say

PACKAGE = "@expo-google-fonts/noto-sans-sc"
VERSION = "0.4.3"
TARBALL_SHA256 = "0d69d0f4971d2ff574e3d93cbc218dc950bf3f3f8f8e2c008d97687ed53aee59"
FONTS = SHARED_LOCAL / "fonts"  # shared by every BIANMIN_LOCAL_DIR, like the Kafka jars
# member of the tarball -> (file under FONTS, its sha256)
KEEP = {
    "package/400Regular/NotoSansSC_400Regular.ttf":
        ("NotoSansSC-Regular.ttf", "d45f67f0a7c0ca3f256950777ce6a61cc7ce5f9696d02900cbbaac25f8aa7d16"),
    "package/LICENSE_FONT": ("OFL.txt", "1c05c68c34f9708415aada51f17e1b0092d2cea709bf4a94cd38114f9e73d7d9"),
}
FONT_FILE = FONTS / "NotoSansSC-Regular.ttf"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _have_fonts() -> bool:
    return all((FONTS / name).is_file() and sha256_of(FONTS / name) == digest for name, digest in KEEP.values())


def tarball_url() -> str:
    """The package's tarball on the npm registry; BIANMIN_NPM_REGISTRY names a mirror (e.g. registry.npmmirror.com)."""
    registry = os.environ.get("BIANMIN_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    return f"{registry}/{PACKAGE}/-/{PACKAGE.split('/')[1]}-{VERSION}.tgz"


def _download(url: str, target: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
    except OSError as exc:  # URLError, timeouts, refused connections
        raise InfraError(f"fonts: could not download {url}: {exc}; set BIANMIN_NPM_REGISTRY to a reachable npm "
                         "registry, or INTAKE_FONT_FILE to a Simplified-Chinese TrueType font") from exc


def ensure_fonts() -> None:
    """Download the pinned package tarball into .local/fonts unless the files there match their pins."""
    if _have_fonts():
        return
    url = tarball_url()
    say(f"fonts: fetching {PACKAGE}@{VERSION} ({url})")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bianmin-fonts-") as scratch:
        tarballs = [Path(scratch) / f"{PACKAGE.split('/')[1]}-{VERSION}.tgz"]
        _download(url, tarballs[0])
        if (got := sha256_of(tarballs[0])) != TARBALL_SHA256:
            raise InfraError(f"fonts: {tarballs[0].name} has sha256 {got}, expected {TARBALL_SHA256}")
        staging = FONTS.with_name("fonts.partial")  # swapped in whole, so a broken download never looks complete
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(tarballs[0], "r:gz") as tar:
            for member, (name, digest) in KEEP.items():
                source = tar.extractfile(member)
                if source is None:
                    raise InfraError(f"fonts: {member} is missing from {tarballs[0].name}")
                with source, open(staging / name, "wb") as out:
                    shutil.copyfileobj(source, out)
                if sha256_of(staging / name) != digest:
                    raise InfraError(f"fonts: {member} does not match its pinned sha256")
        shutil.rmtree(FONTS, ignore_errors=True)
        staging.rename(FONTS)
    say(f"fonts: {FONT_FILE} ready in {time.monotonic() - started:.1f} s")
