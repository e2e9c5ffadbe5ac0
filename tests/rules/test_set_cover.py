"""The set cover of the proposals (geocheck.rules.set_cover) on dense matrices, as the
proposals hand it over: the same answers as on scipy sparse matrices, the same model for
HiGHS, and without loading scipy.sparse or the rest of scipy.optimize."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from geocheck.rules import set_cover


def random_covers(seed: int, n: int = 25) -> list[tuple[np.ndarray, np.ndarray]]:
    """Random dense covers (every row has a column; some columns green, so dearer)."""
    rng = np.random.default_rng(seed)
    problems = []
    for _ in range(n):
        m, k = int(rng.integers(3, 30)), int(rng.integers(5, 60))
        a = rng.random((m, k)) < 0.15
        a[np.arange(m), rng.integers(0, k, m)] = True
        problems.append((a, 1.0 + rng.integers(0, 2, k) / (m + 1.0)))
    return problems


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_and_sparse_covers_agree(seed) -> None:
    from scipy import sparse
    problems = random_covers(seed)
    dense = set_cover.covers(problems)
    as_sparse = set_cover.covers([(sparse.csc_matrix(a.astype(float)), c) for a, c in problems])
    for (a, _), (chosen, method, gap), (chosen_s, method_s, gap_s) in zip(
            problems, dense, as_sparse, strict=True):
        assert chosen.tolist() == chosen_s.tolist() and (method, gap) == (method_s, gap_s)
        assert a[:, chosen].any(axis=1).all()
    for a, cost in problems + [(np.tile(a, (5, 1)), c) for a, c in problems]:  # 64+ rows too
        assert (set_cover.undominated(a, cost).tolist()
                == set_cover.undominated(sparse.csc_matrix(a.astype(float)), cost).tolist())


def test_block_diagonal_is_scipys() -> None:
    from scipy import sparse
    blocks = [a for a, _ in random_covers(3, 6)] + [np.zeros((2, 3), dtype=bool)]
    got = set_cover.block_diagonal(blocks)
    want = sparse.block_diag([sparse.csc_matrix(b.astype(float)) for b in blocks],
                             format="csc")
    want.eliminate_zeros()
    assert got.shape == want.shape
    assert got.indptr.tolist() == want.indptr.tolist()
    assert got.indices.tolist() == want.indices.tolist()


def test_a_dense_cover_loads_neither_scipy_sparse_nor_scipy_optimize() -> None:
    # HiGHS's binding alone is loaded; scipy.optimize imported afterwards uses that very
    # module, and its milp still works
    code = """
import sys
import numpy as np
from geocheck.rules import set_cover
a = np.array([[1, 0, 1, 0, 1], [1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 1, 1],
              [0, 0, 1, 1, 0]], dtype=bool)
a = np.vstack([a, np.roll(a, 1, axis=1)])
chosen, method, gap = set_cover.covers([(a, np.ones(5)), (a[:, ::-1], np.ones(5))])[0]
assert method == "milp" and a[:, chosen].any(axis=1).all(), (chosen, method)
loaded = sorted(m for m in sys.modules if m.startswith("scipy"))
assert "scipy.sparse" not in loaded and "scipy.optimize" not in loaded, loaded
assert set_cover.HIGHS_CORE in loaded
core = sys.modules[set_cover.HIGHS_CORE]
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.optimize._highspy import _core
assert _core is core
res = milp(np.ones(5), constraints=LinearConstraint(a.astype(float), lb=1, ub=np.inf),
           integrality=np.ones(5), bounds=Bounds(0, 1))
assert res.status == 0
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
