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
    assert "windns = toolkit.cli:main" in text
