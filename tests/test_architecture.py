"""The layering docs/architecture.rst describes, checked on the source: data flows one way, nothing imports a face."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mda_glassml"
FACES = ("mda_glassml.analysis", "mda_glassml.ovito", "mda_glassml.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every mda_glassml module ``path`` imports (relative imports resolved), at any depth of the file."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mda_glassml")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("mda_glassml"):
                found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}  # "from . import metrics" names a module
    return found


GRAPH = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _importers(prefix: str) -> set[str]:
    return {m for m, imports in GRAPH.items() if any(i == prefix or i.startswith(prefix + ".") for i in imports)}


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_graph_was_read():
    assert "mda_glassml.cli.classify" in GRAPH and "mda_glassml.classify" in GRAPH["mda_glassml.cli.classify"]


@pytest.mark.parametrize("face", FACES)
def test_the_core_imports_no_face(face):
    # the command line may run the MDAnalysis analyses; nothing of the core may reach a face
    # (simulation.validate took its RDFs from the MDAnalysis face until 2026-12-08)
    assert {m for m in _importers(face) if not any(_inside(m, f) for f in FACES)} == set()


def test_the_reproduction_is_imported_by_nothing_but_the_command_line():
    outside = {m for m in _importers("mda_glassml.reproduce") if not _inside(m, "mda_glassml.reproduce")}
    assert outside <= {"mda_glassml.cli.reproduce"}


def test_models_never_reach_up_into_training_and_errors_import_nothing():
    assert {m for m in _importers("mda_glassml.training") if _inside(m, "mda_glassml.models")} == set()
    assert GRAPH["mda_glassml.errors"] == set()


def test_the_recipes_old_module_says_where_it_went():
    import subprocess
    import sys

    with pytest.raises(ImportError, match="moved to mda_glassml.training.recipes"):
        from mda_glassml.models.make_pretrained import main  # noqa: F401
    done = subprocess.run([sys.executable, "-m", "mda_glassml.models.make_pretrained", "--cooling", "c"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "python -m mda_glassml.training.recipes" in done.stderr


def test_the_old_modules_names_are_those_the_recipe_offers():
    from mda_glassml.models import make_pretrained
    from mda_glassml.training import recipes

    assert make_pretrained._NAMES == set(recipes.__all__)
