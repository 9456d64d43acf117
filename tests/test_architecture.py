"""The layout rules of the README's Architecture section, kept by parsing the code.

- A stage (a top-level folder mapped to ``lutmesh.<stage>``) imports the core and
  only the stages the README's "builds on" table allows.
- The core (``lutmesh/``) imports no stage, except ``cli`` and ``flow``, which are
  where the stages are put together.
- No function outside the tests is longer than 80 lines.

The allowed stage imports are read from the README itself, so the rule a person
reads is the rule the test keeps.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("train", "hdl", "sim", "report", "boards", "explain", "sweep")
COMPOSERS = {"cli", "flow"}  # core modules that put stages together
MAX_FUNCTION_LINES = 80


def allowed_imports() -> dict[str, set[str]]:
    """The README's table: ``| `stage` | `other`, `other` | why |`` rows."""
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- stage-imports -->")[1]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`(\w+)`\s*\|([^|]*)\|", line)
        if m:
            table[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
        elif table and not line.startswith("|"):
            break
    return table


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] != "lutmesh":
        parts.insert(0, "lutmesh")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, source: str) -> list[tuple[int, str]]:
    """Absolute names of every lutmesh module ``path`` imports (at any depth)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, t) for t in targets if t.startswith("lutmesh")]
    return found


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def source_files():
    for folder in ("lutmesh",) + STAGES:
        yield from sorted((ROOT / folder).glob("*.py"))


def import_violations(sources, table) -> list[str]:
    """``sources``: (path, text) pairs; one line per import the table does not allow."""
    problems = []
    for path, text in sources:
        me = module_name(path)
        mine = stage_of(me)
        for line, target in imported_modules(path, text):
            theirs = stage_of(target)
            if theirs is None or theirs == mine:
                continue
            if mine is None and me.split(".")[-1] in COMPOSERS:
                continue
            if mine is None or theirs not in table.get(mine, set()):
                who = mine or "the core"
                problems.append(f"{path.relative_to(ROOT)}:{line}: {who} imports {target}")
    return problems


def test_readme_table_names_every_stage():
    table = allowed_imports()
    assert set(table) == set(STAGES)
    assert all(deps <= set(STAGES) for deps in table.values())


def test_stages_import_only_what_the_readme_allows():
    sources = [(p, p.read_text()) for p in source_files()]
    assert import_violations(sources, allowed_imports()) == []


def test_a_forbidden_import_is_caught():
    """The checker itself must fail on, say, ``sim`` importing ``train``."""
    table = allowed_imports()
    assert "train" not in table["sim"]
    probe = ROOT / "sim" / "probe.py"
    problems = import_violations([(probe, "def f():\n    from ..train.trainer import fit\n")],
                                 table)
    assert problems == ["sim/probe.py:2: sim imports lutmesh.train.trainer",
                        "sim/probe.py:2: sim imports lutmesh.train.trainer.fit"]
    assert import_violations([(ROOT / "lutmesh" / "probe.py", "from .hdl import emit\n")], table)
    assert import_violations([(ROOT / "explain" / "x.py", "import lutmesh.report.synth\n")], table)
    assert not import_violations([(ROOT / "lutmesh" / "flow.py", "from .hdl import emit\n")],
                                 table)


def long_functions(paths) -> list[str]:
    out = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    return out


def test_no_function_is_longer_than_a_screen():
    paths = list(source_files()) + sorted((ROOT / "benchmarks").glob("*.py"))
    assert long_functions(paths) == []


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_is_a_top_level_folder_mapped_into_lutmesh(stage):
    import importlib

    assert (ROOT / stage / "__init__.py").is_file()
    assert not (ROOT / "lutmesh" / stage).exists()
    pkg = importlib.import_module(f"lutmesh.{stage}")
    assert Path(pkg.__file__).resolve().parent == ROOT / stage
