"""Set cover: the fewest columns of a 0/1 matrix (rows: buildings, columns: candidate sites)
that cover every row, weighted by a cost per column; for :mod:`geocheck.rules.proposals`.

Small problems (:data:`EXACT_MAX` cells) are solved exactly: the columns and rows that cannot
matter are dropped and the columns every cover needs are taken (:func:`undominated`,
:func:`reduced`), and what is left of all the problems goes to HiGHS as one model, the model
``scipy.optimize.milp`` would hand it (:func:`highs_milp`, with a time limit; problem by problem
when it is not proven). A large one is solved greedily, with the LP relaxation's bound giving
the gap.

A matrix is a scipy sparse matrix or a dense numpy array (boolean or 0/1). The exact path
works on dense arrays and hands HiGHS its columns (:class:`Columns`) through scipy's HiGHS
binding, loaded on its own (:func:`highs_core`): neither ``scipy.sparse`` nor the rest of
``scipy.optimize`` (some 0.5 s of imports) is loaded unless a problem is solved greedily.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import math
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

EXACT_MAX = 2_000_000
"""Candidates x buildings of an estate up to which the set cover is solved exactly."""
TIME_LIMIT_S = 20.0
"""Time limit of one exact solve, seconds (the best solution found is kept, with its gap)."""
HIGHS_CORE = "scipy.optimize._highspy._core"
"""scipy's binding of HiGHS (scipy 1.15 on), the solver ``scipy.optimize.milp`` calls."""
_LOADING = threading.Lock()


@dataclass(frozen=True)
class Columns:
    """A 0/1 matrix stored by columns (compressed sparse columns without values: every entry
    stored is a one): the rows of column ``j`` are ``indices[indptr[j]:indptr[j + 1]]``, in
    increasing order."""

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray


Matrix = Any
"""A set cover's matrix: a scipy sparse matrix, a dense numpy array or :class:`Columns`."""


def cover(a: Matrix, cost: np.ndarray) -> tuple[np.ndarray, str, int]:
    """Set cover: the fewest columns of ``a`` (rows: buildings, columns: candidates, each
    row covered by some column) weighted by ``cost``: ``(chosen columns, method, gap)``."""
    return covers([(a, cost)])[0]


def covers(problems: list[tuple[Matrix, np.ndarray]]) -> list[tuple[np.ndarray, str, int]]:
    """:func:`cover` for each of ``problems`` (an estate's ``a`` and ``cost`` each).

    Exactly (``milp``) up to :data:`EXACT_MAX` cells: the columns worth keeping
    (:func:`undominated`), the reductions of :func:`reduced`, then HiGHS on what they leave
    (nothing, often): one model for all the problems, block by block (HiGHS takes some 9 ms
    to start on even the smallest model), proven to the last site and green penalty; when it
    is not proven within :data:`TIME_LIMIT_S`, each problem alone. Above the cells, or when
    HiGHS fails, greedily."""
    out: list[tuple[np.ndarray, str, int]] = [(np.arange(0), "", 0)] * len(problems)
    # what the reductions leave: (problem, its matrix (dense) and costs over the columns
    # kept, those columns, the columns taken, the columns left, the rows and columns left)
    left = []
    for i, (a, cost) in enumerate(problems):
        keep = undominated(a, cost)
        cost = cost[keep]
        if a.shape[0] * len(keep) > EXACT_MAX:
            out[i] = _greedy(_sparse(a)[:, keep], cost, keep)
            continue
        d = _dense(a, keep)
        forced, rows, cols = reduced(d, cost)
        if len(rows):
            left.append((i, d, cost, keep, forced, cols, d[np.ix_(rows, cols)]))
        else:
            out[i] = (keep[forced], "milp", 0)
    if len(left) > 1:  # one model for them all
        x, proven, _ = highs_milp(block_diagonal([p[-1] for p in left]),
                                  np.concatenate([p[2][p[5]] for p in left]), rel_gap=0.0)
        if x is not None and proven:
            ends = np.cumsum([p[-1].shape[1] for p in left])
            for (i, _, _, keep, forced, cols, _), xi in zip(left, np.split(x, ends[:-1]),
                                                             strict=True):
                out[i] = (keep[np.sort(np.concatenate([forced, cols[xi > 0.5]]))], "milp", 0)
            left = []
    for i, a, cost, keep, forced, cols, sub in left:  # one by one, each with its time limit
        x, proven, bound = highs_milp(sub, cost[cols])
        if x is None:
            out[i] = _greedy(_sparse(a), cost, keep)
            continue
        chosen = keep[np.sort(np.concatenate([forced, cols[x > 0.5]]))]
        if proven:
            out[i] = (chosen, "milp", 0)
        else:
            low = len(forced) + math.ceil((bound or 0.0) / cost[cols].max() - 1e-9)
            out[i] = (chosen, "milp (time limit)", max(len(chosen) - low, 0))
    return out


def _sparse(a: Matrix) -> sparse.csc_matrix:
    """``a`` as a scipy sparse matrix by columns (the greedy path)."""
    from scipy import sparse  # only for a problem solved greedily
    return sparse.csc_matrix(a)


def _dense(a: Matrix, keep: np.ndarray) -> np.ndarray:
    """The columns ``keep`` of ``a`` as a dense boolean array (entries above zero)."""
    if isinstance(a, np.ndarray):
        return a[:, keep] > 0
    return _sparse(a)[:, keep].toarray() > 0


def _greedy(a: sparse.csc_matrix, cost: np.ndarray, keep: np.ndarray
            ) -> tuple[np.ndarray, str, int]:
    """Greedy set cover: most uncovered rows per unit cost, then the LP bound for the gap;
    ``keep`` numbers the columns of ``a`` in the whole problem."""
    from scipy.optimize import linprog  # only when proposing
    m = a.shape[0]
    left = np.ones(m, dtype=bool)
    chosen: list[int] = []
    while left.any():
        gain = a.T @ left.astype(np.int64)
        j = int(np.argmax(gain / cost))
        chosen.append(j)
        left[a.indices[a.indptr[j]:a.indptr[j + 1]]] = False
    lp = linprog(cost, A_ub=-a, b_ub=-np.ones(m), bounds=(0, 1), method="highs")
    low = math.ceil(lp.fun / cost.max() - 1e-9) if lp.status == 0 else 0
    return keep[np.asarray(chosen, dtype=np.int64)], "greedy", max(len(chosen) - low, 0)


def reduced(a: Matrix, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classic reductions of a set cover, repeated while they change something: a column
    that alone covers some row is in every cover (taken, with the rows it covers); a row whose
    columns include all those of another row is covered whenever that row is (dropped); a
    column whose rows a column no dearer covers too is never needed (dropped). Returns
    ``(columns taken, rows left, columns left)``: some optimum is the columns taken plus an
    optimum of what is left."""
    d = (a if isinstance(a, np.ndarray) else a.toarray()) > 0
    rows, cols = np.arange(d.shape[0]), np.arange(d.shape[1])
    taken: list[np.ndarray] = []
    while len(rows):
        sub = d[np.ix_(rows, cols)]
        per_row = sub.sum(axis=1)
        alone = np.unique(np.argmax(sub[per_row == 1], axis=1))
        if len(alone):
            taken.append(cols[alone])
            rows = rows[~sub[:, alone].any(axis=1)]
            cols = np.delete(cols, alone)
            continue
        f = sub.astype(np.float32)
        shared = f @ f.T  # columns two rows share
        i = np.arange(len(rows))
        # row r is dropped for row q when q's columns are among r's (the first of equals kept)
        within = (shared == per_row[:, None]) & (i[:, None] != i[None, :])
        within &= (per_row[:, None] < per_row[None, :]) | (i[:, None] < i[None, :])
        drop_row = within.any(axis=0)
        per_col = sub.sum(axis=0)
        shared = f.T @ f  # rows two columns share
        j, c = np.arange(len(cols)), cost[cols]
        # column j is dropped for column l when j's rows are among l's and l is no dearer
        under = (shared == per_col[:, None]) & (j[:, None] != j[None, :])
        under &= c[None, :] <= c[:, None]
        under &= ((per_col[:, None] < per_col[None, :]) | (c[None, :] < c[:, None])
                  | (j[None, :] < j[:, None]))
        drop_col = under.any(axis=1) | (per_col == 0)
        if not (drop_row.any() or drop_col.any()):
            break
        rows, cols = rows[~drop_row], cols[~drop_col]
    forced = np.concatenate(taken) if taken else np.arange(0)
    return forced, rows, cols


def undominated(a: Matrix, cost: np.ndarray) -> np.ndarray:
    """The columns of a set cover worth keeping, in order: of columns covering the same rows,
    the cheapest (then the first); and no column whose rows another column, no dearer, covers
    too. Some optimum uses only these, so the fewest sites and the proof are unchanged; the
    candidates of an estate (a thousand, round some thirty buildings) come down to a few
    dozen, which HiGHS then solves in a fraction of the time."""
    m, k = a.shape
    words = (m + 63) // 64
    if isinstance(a, np.ndarray):  # each column's rows as bits, 64 to a word
        packed = np.zeros((words * 8, k), dtype=np.uint8)
        packed[:(m + 7) // 8] = np.packbits(a > 0, axis=0, bitorder="little")
        masks = np.ascontiguousarray(packed.T).view(np.uint64)
    else:
        csc = a.tocsc()
        col = np.repeat(np.arange(k), np.diff(csc.indptr))
        rows = csc.indices.astype(np.int64)
        masks = np.zeros((k, words), dtype=np.uint64)
        bits = np.left_shift(np.uint64(1), (rows % 64).astype(np.uint64))
        np.bitwise_or.at(masks, (col, rows // 64), bits)
    order = np.lexsort((np.arange(k), cost))  # cheapest, then first
    by_mask = masks[order]
    # equal masks side by side, each run in that order (a stable sort): its first is kept
    alike = np.lexsort(by_mask.T[::-1]) if words else np.arange(k)
    by_mask = by_mask[alike]
    first = np.ones(k, dtype=bool)
    first[1:] = (by_mask[1:] != by_mask[:-1]).any(axis=1)
    keep = np.sort(order[alike[first]])
    mk, ck = masks[keep], cost[keep]
    if len(keep) ** 2 * words > 50_000_000:  # too many to compare pairwise: duplicates only
        return keep
    dominated = np.zeros(len(keep), dtype=bool)
    for s in range(0, len(keep), 256):  # blocks of columns, each against all
        block = mk[s:s + 256]
        subset = ((block[:, None, :] & ~mk[None, :, :]) == 0).all(axis=2)
        subset &= ck[None, :] <= ck[s:s + 256, None]
        subset[np.arange(len(block)), np.arange(s, s + len(block))] = False
        dominated[s:s + 256] = subset.any(axis=1)
    return keep[~dominated]


def block_diagonal(blocks: list[np.ndarray]) -> Columns:
    """The dense 0/1 ``blocks`` along the diagonal of one matrix, as :class:`Columns` (what
    ``scipy.sparse.block_diag(blocks, format="csc")`` stores)."""
    shapes = np.array([b.shape for b in blocks], dtype=np.int64).reshape(-1, 2)
    row0 = np.cumsum(shapes[:, 0]) - shapes[:, 0]
    col0 = np.cumsum(shapes[:, 1]) - shapes[:, 1]
    cols, rows = [], []
    for b, r0, c0 in zip(blocks, row0, col0, strict=True):
        c, r = np.nonzero(np.asarray(b).T > 0)  # column by column, rows in order
        cols.append(c + c0)
        rows.append(r + r0)
    m, k = int(shapes[:, 0].sum()), int(shapes[:, 1].sum())
    col = np.concatenate(cols) if cols else np.arange(0)
    indptr = np.zeros(k + 1, dtype=np.int32)
    np.cumsum(np.bincount(col, minlength=k), out=indptr[1:])
    return Columns((m, k), indptr, (np.concatenate(rows) if rows else col).astype(np.int32))


def highs_core() -> ModuleType:
    """scipy's HiGHS binding (:data:`HIGHS_CORE`). When ``scipy.optimize`` is not loaded yet,
    the extension module alone is loaded from its file and registered under its name (some
    10 ms, where importing it through ``scipy.optimize`` loads all of that package, some
    0.4 s of CPU; a later import of ``scipy.optimize`` finds it registered and uses it).
    Raises ImportError without it (scipy before 1.15)."""
    with _LOADING:
        if HIGHS_CORE in sys.modules:
            return sys.modules[HIGHS_CORE]
        scipy_spec = importlib.util.find_spec("scipy")
        folder = (Path(scipy_spec.origin).parent / "optimize" / "_highspy"
                  if scipy_spec is not None and scipy_spec.origin else None)
        path = next((folder / f"_core{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
                     if folder is not None and (folder / f"_core{suffix}").is_file()), None)
        spec = importlib.util.spec_from_file_location(HIGHS_CORE, path) if path else None
        if spec is None or spec.loader is None:
            return importlib.import_module(HIGHS_CORE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[HIGHS_CORE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[HIGHS_CORE]
            raise
        return module


def _columns(a: Matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, values)`` of ``a`` stored by columns."""
    if isinstance(a, Columns):
        return a.indptr, a.indices, np.ones(len(a.indices))
    if isinstance(a, np.ndarray):
        d = a > 0
        c, r = np.nonzero(d.T)
        indptr = np.zeros(d.shape[1] + 1, dtype=np.int32)
        np.cumsum(np.bincount(c, minlength=d.shape[1]), out=indptr[1:])
        return indptr, r.astype(np.int32), np.ones(len(r))
    from scipy import sparse  # a sparse matrix given: scipy.sparse is loaded already
    csc = sparse.csc_array(a)
    return csc.indptr, csc.indices, csc.data.astype(np.float64)


def highs_milp(a: Matrix, cost: np.ndarray, rel_gap: float | None = None
               ) -> tuple[np.ndarray | None, bool, float | None]:
    """The set cover of :func:`cover` solved exactly by HiGHS, as ``scipy.optimize.milp``
    solves it (binary columns, every row >= 1, :data:`TIME_LIMIT_S`): ``(x or None, proven
    optimal, the solver's lower bound)``.

    The model is handed to the HiGHS that scipy ships directly (:func:`highs_core`), the
    very model and options ``milp`` hands it (so the same solution), without ``milp``'s
    per-column Python loops, which cost as much as the solve on these small models; ``milp``
    itself where scipy has no such module (before 1.15). ``rel_gap``: HiGHS's relative MIP
    gap in place of its default (1e-4), which on a model of many estates could accept a
    green site too many.
    """
    m, k = a.shape
    indptr, indices, values = _columns(a)
    try:
        h = highs_core()
        lp = h.HighsLp()
        lp.num_col_, lp.num_row_ = k, m
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = k, m
        lp.a_matrix_.format_ = h.MatrixFormat.kColwise
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lp.col_lower_, lp.col_upper_ = np.zeros(k), np.ones(k)
        lp.row_lower_, lp.row_upper_ = np.ones(m), np.full(m, np.inf)
        lp.a_matrix_.start_, lp.a_matrix_.index_ = indptr, indices
        lp.a_matrix_.value_ = values
        lp.integrality_ = [h.HighsVarType(1)] * k
        options = h.HighsOptions()
        options.log_to_console = False
        options.time_limit = TIME_LIMIT_S
        if rel_gap is not None:
            options.mip_rel_gap = rel_gap
        highs = h._Highs()
        ready = (highs.passOptions(options) != h.HighsStatus.kError
                 and highs.passModel(lp) != h.HighsStatus.kError)
    except (ImportError, AttributeError, TypeError):  # another scipy: milp itself
        from scipy import sparse
        from scipy.optimize import Bounds, LinearConstraint, milp
        res = milp(cost, constraints=LinearConstraint(
                       sparse.csc_array((values, indices, indptr), shape=(m, k)),
                       lb=np.ones(m), ub=np.full(m, np.inf)),
                   integrality=np.ones(k), bounds=Bounds(0, 1),
                   options={"time_limit": TIME_LIMIT_S}
                   | ({} if rel_gap is None else {"mip_rel_gap": rel_gap}))
        return res.x, res.status == 0, getattr(res, "mip_dual_bound", None)
    if not ready or highs.run() == h.HighsStatus.kError:
        return None, False, None
    status, info = highs.getModelStatus(), highs.getInfo()
    stopped = status in (h.HighsModelStatus.kTimeLimit, h.HighsModelStatus.kIterationLimit,
                         h.HighsModelStatus.kSolutionLimit)
    if not (status == h.HighsModelStatus.kOptimal
            or (stopped and info.objective_function_value != h.kHighsInf)):
        return None, False, None
    return (np.array(highs.getSolution().col_value), status == h.HighsModelStatus.kOptimal,
            info.mip_dual_bound)
