"""The packaging metadata (issue 12, item 12): ``./scripts/start.sh`` installs the project
with pip, and setuptools warns on every install about a ``license = { text = ... }`` table
(deprecated; unsupported after 2027-02-18). The license is an SPDX expression instead, and
the build requires a setuptools that understands one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_without_a_conflicting_classifier() -> None:
    data = _pyproject()
    project = data["project"]
    assert isinstance(project, dict)
    assert project["license"] == "MIT"  # a string (PEP 639), not a {text = ...} table
    # PEP 639: a License :: classifier next to an SPDX expression is an error for the build.
    classifiers = project.get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]
    # Every file named in license-files must exist, or the build fails.
    for pattern in project.get("license-files", []):
        assert list(ROOT.glob(pattern)), pattern


def test_build_requires_a_setuptools_that_reads_spdx_licenses() -> None:
    requires = _pyproject()["build-system"]
    assert isinstance(requires, dict)
    (setuptools,) = [r for r in requires["requires"] if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools.replace(" ", ""))
    assert found is not None, setuptools
    assert int(found.group(1)) >= 77  # the first setuptools with PEP 639 license strings


def test_packages_are_declared_at_the_root_for_a_quiet_editable_install() -> None:
    """Without ``package-dir = {"" = "."}`` setuptools installs a flat layout in editable mode
    through an import finder and prints a BuildBackendWarning ("Editable installation") on
    every ``./scripts/start.sh`` that installs; with it, a plain .pth and no notice."""
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    assert tool["setuptools"]["package-dir"] == {"": "."}
    include = tool["setuptools"]["packages"]["find"]["include"]
    assert include == ["bot*", "integrations*"]
