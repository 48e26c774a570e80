"""Data flows one way (ARCHITECTURE.md): the import-linter contract in pyproject.toml holds, and no
module reaches a model by name, which import tools cannot see."""

import re
from pathlib import Path

from importlinter.cli import lint_imports

SOURCE = Path(__file__).parent.parent / "src" / "lastweek"


def test_the_layers_contract_is_kept():
    assert lint_imports(config_filename=str(SOURCE.parent.parent / "pyproject.toml")) == 0


def test_no_module_looks_a_model_up_by_name_outside_migrations():
    found = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in SOURCE.rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bget_model\(", line)
    ]
    assert found == []
