"""The Chinese font the printed documents embed: Noto Sans SC Regular (SIL OFL 1.1), from the npm
registry's `@expo-google-fonts/noto-sans-sc` package, pinned by version and sha256.

`make install` (python deploy/local.py fonts) puts it in .local/fonts/ with its licence; nothing of it is
committed. The tarball holds nine weights (57 MB); only the one the documents use is kept.
"""

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import time
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


def ensure_fonts() -> None:
    """Fetch the pinned package with npm into .local/fonts unless the files there match their pins."""
    if _have_fonts():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise InfraError(f"fonts: 'npm' is not on PATH; it is needed once to download {PACKAGE}@{VERSION} into {FONTS} "
                         "(apt-get install npm), or set INTAKE_FONT_FILE to a Simplified-Chinese TrueType font")
    say(f"fonts: fetching {PACKAGE}@{VERSION} with npm")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bianmin-fonts-") as scratch:
        res = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", scratch],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        tarballs = list(Path(scratch).glob("*.tgz"))
        if res.returncode != 0 or len(tarballs) != 1:
            raise InfraError(f"fonts: npm pack failed (exit {res.returncode}): {res.stderr.strip()[-2000:]}")
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
