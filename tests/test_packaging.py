"""The wheel carries the PowerShell scripts and the demo fleet inside the package."""

from __future__ import annotations

import zipfile
from pathlib import Path

import hatchling.builders.wheel as hatchling_wheel

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_scripts_fixtures_and_console_script(tmp_path: Path) -> None:
    builder = hatchling_wheel.WheelBuilder(str(ROOT))
    [wheel] = list(builder.build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(wheel).namelist())
    scripts = {p.name for p in (ROOT / "ps_scripts").glob("*.ps1")}
    assert scripts, "ps_scripts/ is empty"
    for name in scripts:
        assert f"toolkit/ps_scripts/{name}" in names
    for fixture in (ROOT / "fixtures" / "demo").glob("*.json"):
        assert f"toolkit/fixtures/demo/{fixture.name}" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "windns = toolkit.console:main" in text


def test_every_third_party_import_in_the_package_is_a_declared_dependency() -> None:
    """A plain `pip install .` must give a working `windns`: whatever toolkit/ imports (at any
    depth, lazily or not) is in [project] dependencies, not only in an extra."""
    import ast
    import sys
    import tomllib
    from importlib.metadata import packages_distributions

    from packaging.requirements import Requirement

    declared = {
        Requirement(r).name.lower().replace("_", "-")
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    dists = packages_distributions()
    missing: dict[str, str] = {}
    for path in (ROOT / "toolkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                if root == "toolkit" or root in sys.stdlib_module_names:
                    continue
                names = {d.lower().replace("_", "-") for d in dists.get(root, [root])}
                if not names & declared:
                    missing[root] = str(path.relative_to(ROOT))
    assert not missing, f"imported but not a declared dependency: {missing}"
