"""Compiled message catalogues, however the app was installed: compiled at start-up when missing or stale."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from flask import Flask

PACKAGE_CATALOGUES = Path(__file__).resolve().parent / "translations"
log = logging.getLogger(__name__)


def sources() -> list[Path]:
    """Every language's messages.po (the catalogue merged by `make messages`)."""
    return sorted(PACKAGE_CATALOGUES.glob("*/LC_MESSAGES/messages.po"))


def _fresh(mo: Path, po: Path) -> bool:
    return mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime


def compiled_for(po: Path, directories: list[Path]) -> Path | None:
    """The first up-to-date messages.mo for this .po among the directories Flask-Babel reads, if any."""
    relative = po.relative_to(po.parents[2])
    for directory in directories:
        mo = (directory / relative).with_suffix(".mo")
        if _fresh(mo, po):
            return mo
    return None


def compile_catalogue(po: Path, mo: Path) -> None:
    """Write po's compiled form to mo atomically (several workers may start at once)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parents[1].name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_compiled(app: Flask) -> None:
    """Compile missing or stale catalogues into the package, or into instance/ when the package is read-only."""
    instance_catalogues = Path(app.instance_path) / "translations"
    stale = [po for po in sources() if compiled_for(po, [PACKAGE_CATALOGUES, instance_catalogues]) is None]
    writable = os.access(PACKAGE_CATALOGUES, os.W_OK)
    for po in stale:
        target_root = PACKAGE_CATALOGUES if writable else instance_catalogues
        mo = (target_root / po.relative_to(PACKAGE_CATALOGUES)).with_suffix(".mo")
        try:
            compile_catalogue(po, mo)
            log.info("compiled %s", mo)
        except OSError as error:
            log.error("could not compile %s: %s", po, error)
    if any(compiled_for(po, [PACKAGE_CATALOGUES]) is None and compiled_for(po, [instance_catalogues])
           for po in sources()):
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = f"{instance_catalogues};{PACKAGE_CATALOGUES}"
