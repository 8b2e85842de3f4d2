"""Conventions of the test suite itself."""
import ast
from pathlib import Path

TESTS = Path(__file__).parent


def test_isclose_calls_state_atol():
    # np.isclose / np.allclose default to atol=1e-8, which silently passes any comparison
    # of fluxes (~1e-12) or their errors: every call must state its absolute tolerance.
    missing = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("isclose", "allclose")
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"
                    and not any(k.arg == "atol" for k in node.keywords)):
                missing.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert not missing, missing
