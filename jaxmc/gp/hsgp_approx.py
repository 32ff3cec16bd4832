"""pm.gp.HSGP and pm.gp.HSGPPeriodic: Hilbert-space (reduced-rank) GP approximations as PyMC: a fixed basis of
Laplacian eigenfunctions (or cosines and sines) weighted by the kernel's spectral density."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from jaxmc.distributions import Normal
from jaxmc.graph import apply
from jaxmc.gp.cov import Periodic
from jaxmc.gp.inputs import input_matrix, input_value
from jaxmc.gp.mean import Zero
from jaxmc.model import Deterministic

# Laplace eigenbasis on [-L, L]: phi_j(x) = trig(sqrt(lambda_j) (x + L)), lambda_j = (pi j / (2L))^2 for
# j = j0, j0 + 1, ..., j0 + m - 1; "<condition at -L>-<condition at +L>" -> (j0, trig)
BOUNDARY_CONDITIONS = {
    "dirichlet": (1.0, "sin"),
    "neumann": (0.0, "cos"),
    "dirichlet-neumann": (0.5, "sin"),
    "neumann-dirichlet": (0.5, "cos"),
}

# approx_hsgp_hyperparams: (a1, a2) of Riutort-Mayol et al. (2022) per kernel
_HYPERPARAM_FACTORS = {"expquad": (3.2, 1.75), "matern52": (4.1, 2.65), "matern32": (4.5, 3.42)}


def _boundary_per_dim(boundary, n_dims):
    boundaries = (boundary,) * n_dims if isinstance(boundary, str) else tuple(boundary)
    for b in boundaries:
        if not isinstance(b, str) or b not in BOUNDARY_CONDITIONS:
            raise ValueError(f"`boundary` must be one of {tuple(BOUNDARY_CONDITIONS)}, got {b!r}.")
    if len(boundaries) != n_dims:
        raise ValueError("`boundary`, if given as a sequence, must have one entry per active dimension "
                         f"({n_dims}), got {len(boundaries)}.")
    return boundaries


def set_boundary(X, c) -> np.ndarray:
    """L = c * (half the range of each column of X), fixed as an array (PyMC's `set_boundary`)."""
    Xv = input_value(X)
    S = (np.max(Xv, axis=0) - np.min(Xv, axis=0)) / 2.0
    L = np.asarray(c, dtype=float) * S
    if np.any(L <= 0):
        raise ValueError("HSGP boundary lengths must be positive. Check c and the ranges of X.")
    return L


def calc_eigenvalues(L, m, boundary="dirichlet"):
    """Eigenvalues of the Laplacian on [-L, L] for the m[d] basis functions of each dimension, one row per
    basis vector of the product basis (PyMC's ordering)."""
    boundaries = _boundary_per_dim(boundary, len(m))
    j0 = [BOUNDARY_CONDITIONS[b][0] for b in boundaries]
    S = np.meshgrid(*[np.arange(j0[d], j0[d] + m[d]) for d in range(len(m))])
    S_arr = np.vstack([s.flatten() for s in S]).T
    return ((np.pi * S_arr) / (2 * L)) ** 2


def _eigenvectors(Xs, L, eigvals, boundaries):
    phi = jnp.ones((Xs.shape[0], eigvals.shape[0]), dtype=jnp.result_type(Xs, float))
    for d, b in enumerate(boundaries):
        j0, trig_name = BOUNDARY_CONDITIONS[b]
        omega = jnp.sqrt(eigvals[:, d])
        c = 1.0 / jnp.sqrt(L[d])
        if j0 == 0:  # the constant Neumann eigenfunction has squared norm 2L, not L
            c = jnp.where(omega == 0.0, 1.0 / jnp.sqrt(2.0 * L[d]), c)
        phi = phi * c * getattr(jnp, trig_name)(omega * (Xs[:, d][:, None] + L[d]))
    return phi


def calc_eigenvectors(Xs, L, eigvals, m, boundary="dirichlet"):
    """The Laplacian eigenfunctions at the (centred) inputs Xs: a (n, prod(m)) matrix (an expression when Xs
    or L is a model variable)."""
    return apply(_eigenvectors, Xs, L, eigvals, _boundary_per_dim(boundary, len(m)))


def calc_basis_periodic(Xs, period, m, tl=np):
    """Cosine and sine bases cos(j w0 x), sin(j w0 x), j = 0..m-1, w0 = 2 pi / period (PyMC's
    `calc_basis_periodic`; `tl` is accepted for PyMC's signature, the result is an expression or array)."""

    def basis(Xs, period):
        mw0x = (2 * jnp.pi / period) * Xs[:, :1] * jnp.arange(m)
        return jnp.cos(mw0x), jnp.sin(mw0x)

    return apply(basis, Xs, period)


def approx_hsgp_hyperparams(x_range, lengthscale_range, cov_func):
    """(m, c) for an HSGP from the range of the data and of plausible lengthscales (Riutort-Mayol et al.,
    2022, Table 2): `cov_func` is "expquad", "matern52" or "matern32"."""
    if lengthscale_range[0] >= lengthscale_range[1]:
        raise ValueError("One of the `lengthscale_range` boundaries is out of order.")
    if x_range[0] >= x_range[1]:
        raise ValueError("One of the `x_range` boundaries is out of order.")
    factors = _HYPERPARAM_FACTORS.get(str(cov_func).lower())
    if factors is None:
        raise ValueError("Unsupported covariance function. Supported options are 'expquad', 'matern52', and "
                         "'matern32'.")
    a1, a2 = factors
    S = (x_range[1] - x_range[0]) / 2.0
    c = max(a1 * (lengthscale_range[1] / S), 1.2)
    m = int(a2 * c / (lengthscale_range[0] / S))
    return m, c


def _sliced(cov_func, X):
    """X's columns the covariance function acts on (its active_dims)."""
    dims = np.asarray(cov_func.active_dims, dtype=int)
    return X[:, dims]


def _center(X):
    Xv = input_value(X)
    return (np.max(Xv, axis=0) + np.min(Xv, axis=0)) / 2


class _ApproxBase:
    def __init__(self, mean_func, cov_func):
        self.mean_func = Zero() if mean_func is None else mean_func
        self.cov_func = cov_func
        self._X_center = None

    def __add__(self, other):
        raise NotImplementedError("Additive HSGPs aren't supported.")

    def _centered(self, X, where):
        X = input_matrix(X, "X", where)
        if self._X_center is None:  # the training midpoint, kept for predictions at new X
            self._X_center = _center(X)
        return X, _sliced(self.cov_func, X - self._X_center)

    def _prior_set(self):
        if not hasattr(self, "_beta"):
            raise ValueError("Prior is not set, can't create a conditional.  Call `.prior(name, X)` first.")


class HSGP(_ApproxBase):
    """Hilbert-space GP approximation (PyMC's `pm.gp.HSGP`) of a stationary covariance with a power spectral
    density: m basis functions per active dimension on [-L, L] (L given, or c times half the data range)."""

    def __init__(self, m=None, L=None, c=None, drop_first=False, parametrization="noncentered", *,
                 boundary="dirichlet", mean_func=None, cov_func=None):
        if cov_func is None:
            raise ValueError("HSGP: `cov_func` is required (a stationary covariance with a power spectral "
                             "density, e.g. pm.gp.cov.ExpQuad(1, ls=1.0)).")
        n_dims = int(cov_func.n_dims)
        per_dim = f"one element per active dimension of the covariance function ({n_dims})"
        if m is None:
            raise ValueError(f"HSGP: `m` (the number of basis vectors per dimension) is required: a list with "
                             f"{per_dim}, e.g. m={[25] * n_dims}.")
        if not isinstance(m, Sequence) or len(m) != n_dims:
            raise ValueError(f"HSGP: `m` must be a sequence with {per_dim}, got {m!r}.")
        if any(not isinstance(mi, numbers.Integral) or mi <= 0 for mi in m):
            raise ValueError(f"HSGP: the entries of `m` must be positive integers, got {m!r}.")
        if L is None and c is None:
            raise ValueError("HSGP: provide one of `c` (boundary factor, e.g. c=1.5) or `L` (boundary per "
                             "dimension); both are missing.")
        if L is not None and c is not None:
            raise ValueError("HSGP: provide one of `c` or `L`, not both.")
        if L is not None and (not isinstance(L, Sequence | np.ndarray) or len(L) != n_dims):
            raise ValueError(f"HSGP: `L` must be a sequence with {per_dim}, got {L!r}.")
        if c is not None:
            if np.ndim(c) not in (0, 1) or (np.ndim(c) == 1 and len(c) != n_dims):
                raise ValueError(f"HSGP: `c` must be a number or a sequence with {per_dim}, got {c!r}.")
            if np.any(np.asarray(c) < 1.2):
                warnings.warn("For an adequate approximation `c >= 1.2` is recommended.", stacklevel=2)
        if parametrization is not None:
            parametrization = parametrization.lower().replace("-", "").replace("_", "")
        if parametrization not in ("centered", "noncentered"):
            raise ValueError("HSGP: `parametrization` must be either 'centered' or 'noncentered', got "
                             f"{parametrization!r}.")
        if drop_first:
            warnings.warn("The drop_first argument will be deprecated in future versions. See "
                          "https://github.com/pymc-devs/pymc/pull/6877", DeprecationWarning, stacklevel=2)
        super().__init__(mean_func, cov_func)
        self._boundary = _boundary_per_dim(boundary, n_dims)
        self._drop_first = bool(drop_first)
        self._m = tuple(int(mi) for mi in m)
        self._m_star = self.n_basis_vectors = int(np.prod(self._m))
        self._L = None if L is None else np.asarray(L, dtype=float)
        self._c = c
        self._parametrization = parametrization

    @property
    def L(self):
        if self._L is None:
            raise RuntimeError("Boundaries `L` required but still unset.")
        return self._L

    @L.setter
    def L(self, value):
        self._L = np.asarray(value, dtype=float)

    def _basis(self, Xs):
        eigvals = calc_eigenvalues(self.L, self._m, boundary=self._boundary)
        phi = calc_eigenvectors(Xs, self.L, eigvals, self._m, boundary=self._boundary)
        return phi, eigvals

    def prior_linearized(self, X):
        """(phi, sqrt_psd): the basis at X (n, m*) and the square root of the spectral density at its
        frequencies, so that f = mean_func(X) + phi @ (beta * sqrt_psd) with beta ~ N(0, 1)."""
        X, Xs = self._centered(X, "HSGP.prior_linearized")
        if self._L is None:
            self.L = set_boundary(input_value(Xs), self._c)
        phi, eigvals = self._basis(Xs)
        psd = self.cov_func.power_spectral_density(jnp.sqrt(jnp.asarray(eigvals)))
        i = int(self._drop_first)
        return phi[:, i:], apply(jnp.sqrt, psd[i:])

    def prior(self, name, X, dims=None, hsgp_coeffs_dims=None, *args, **kwargs):
        """The approximate GP at X: a Deterministic `name` of the coefficients `<name>_hsgp_coeffs`."""
        phi, sqrt_psd = self.prior_linearized(X)
        self._sqrt_psd = sqrt_psd
        size = self.n_basis_vectors - int(self._drop_first)
        if self._parametrization == "noncentered":
            self._beta = Normal(f"{name}_hsgp_coeffs", size=size, dims=hsgp_coeffs_dims)
            f = self.mean_func(X) + phi @ (self._beta * sqrt_psd)
        else:
            self._beta = Normal(f"{name}_hsgp_coeffs", sigma=sqrt_psd, size=size, dims=hsgp_coeffs_dims)
            f = self.mean_func(X) + phi @ self._beta
        self.f = Deterministic(name, f, dims=dims)
        return self.f

    def _build_conditional(self, Xnew):
        self._prior_set()
        Xnew, Xs = self._centered(Xnew, "HSGP.conditional")
        phi = self._basis(Xs)[0][:, int(self._drop_first):]
        weights = self._beta * self._sqrt_psd if self._parametrization == "noncentered" else self._beta
        return self.mean_func(Xnew) + phi @ weights

    def conditional(self, name, Xnew, dims=None):
        """The approximate GP at new points (a Deterministic of the same coefficients)."""
        return Deterministic(name, self._build_conditional(Xnew), dims=dims)


class HSGPPeriodic(_ApproxBase):
    """HSGP approximation of a one-dimensional Periodic covariance (PyMC's `pm.gp.HSGPPeriodic`): m cosines
    and m - 1 sines of the period, weighted by the kernel's series coefficients times `scale`."""

    def __init__(self, m=None, scale=1.0, *, mean_func=None, cov_func=None):
        msg = ("HSGPPeriodic: `m` must be a positive integer as the `Periodic` kernel approximation is only "
               f"implemented for 1-dimensional case, got {m!r}.")
        if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m <= 0:
            raise ValueError(msg)
        if not isinstance(cov_func, Periodic):
            raise ValueError("HSGPPeriodic: `cov_func` must be an instance of a `Periodic` kernel only. Use the "
                             f"`scale` parameter to control the variance; got {type(cov_func).__name__}.")
        if cov_func.n_dims > 1:
            raise ValueError("HSGP approximation for `Periodic` kernel only implemented for 1-dimensional case.")
        super().__init__(mean_func, cov_func)
        self._m = int(m)
        self.scale = scale

    def _psd(self):
        J = np.arange(self._m)
        return self.scale * self.cov_func.power_spectral_density_approx(J)

    def prior_linearized(self, X):
        """((phi_cos, phi_sin), psd): the bases at X and the coefficients that weight them."""
        X, Xs = self._centered(X, "HSGPPeriodic.prior_linearized")
        return calc_basis_periodic(Xs, self.cov_func.period, self._m), self._psd()

    def _f(self, phi_cos, phi_sin, psd):
        m, beta = self._m, self._beta
        return phi_cos @ (psd * beta[:m]) + phi_sin[..., 1:] @ (psd[1:] * beta[m:])

    def prior(self, name, X, dims=None, hsgp_coeffs_dims=None):
        """The approximate periodic GP at X: a Deterministic `name` of the coefficients `<name>_hsgp_coeffs_`
        (2m - 1 of them: the first sine is zero)."""
        (phi_cos, phi_sin), psd = self.prior_linearized(X)
        self._beta = Normal(f"{name}_hsgp_coeffs_", size=self._m * 2 - 1, dims=hsgp_coeffs_dims)
        self.f = Deterministic(name, self.mean_func(X) + self._f(phi_cos, phi_sin, psd), dims=dims)
        return self.f

    def conditional(self, name, Xnew, dims=None):
        """The approximate periodic GP at new points (a Deterministic of the same coefficients)."""
        self._prior_set()
        Xnew, Xs = self._centered(Xnew, "HSGPPeriodic.conditional")
        phi_cos, phi_sin = calc_basis_periodic(Xs, self.cov_func.period, self._m)
        return Deterministic(name, self.mean_func(Xnew) + self._f(phi_cos, phi_sin, self._psd()), dims=dims)
