"""The checkers the suite takes from the npm registry (tests/node: `npm ci` there, run by `make install`).

Missing checkers skip their tests, unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NODE_MODULES = Path(__file__).resolve().parent / "node" / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"


def _missing(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER", "") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def vnu_command() -> list[str]:
    """The command that starts the Nu HTML checker (one JVM for many files)."""
    java = shutil.which("java")
    if java is None:
        _missing("java not found (apt-get install default-jre-headless); the HTML validity check needs it")
    if not VNU_JAR.exists():
        _missing(f"{VNU_JAR} missing (run `make install`, which runs npm ci in tests/node)")
    return [java, "-Xss2m", "-jar", str(VNU_JAR)]


def axe_source() -> str:
    if not AXE_JS.exists():
        _missing(f"{AXE_JS} missing (run `make install`, which runs npm ci in tests/node)")
    return AXE_JS.read_text(encoding="utf-8")
