"""Probabilistic customer lifetime value: three purchase models and
Gamma-Gamma.

Purchase models (each: repeat purchases at a Poisson rate while alive, the
rate gamma-distributed over customers, and a dropout process):

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy
  way"): dropout with probability p after each repeat purchase, p beta
  distributed. A customer who never bought again is alive by construction.
- MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
  comparison of models for customer base analysis"): the same, with a
  dropout chance at the first purchase too, so one-time buyers can be gone.
- Pareto/NBD (Schmittlein, Morrison & Colombo 1987): an exponential
  lifetime in continuous time, its rate gamma distributed; likelihood and
  conditional expectations as written out by Fader, Hardie & Lee (2005), "A
  note on deriving the Pareto/NBD model and related expressions".

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV") models the mean value
of a customer's repeat purchases. All are fitted by maximum likelihood in
log space with vectorised numpy; ``fit_clv_parameters`` fits the three
purchase models and publishes the one that predicts a holdout best.

Inputs are the RFM summary of the per-customer base (``int_customer_order_summary``;
``dim_customer_rfm`` publishes it): ``frequency`` (repeat
purchase periods), ``recency`` and ``T`` in one time unit. Every function
that turns a calendar horizon into model time takes ``unit_days`` (1 for
days, 7 for weeks) explicitly, so daily and weekly units cannot be mixed up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, gammasgn, hyp2f1

DAYS_PER_MONTH = 365.25 / 12

OPTIMIZER_OPTIONS = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000}
"""L-BFGS-B on log-parameters, tight enough to match the published CDNOW
estimates to 0.05%: 20 evaluations of the BG/NBD objective with its analytic
gradient (about 100 with finite differences)."""


@dataclass(frozen=True)
class BetaGeoFit:
    """Fitted BG/NBD parameters; ``alpha`` is in the time unit of the data."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    unit_days: float
    n_customers: int


@dataclass(frozen=True)
class ModifiedBetaGeoFit:
    """Fitted MBG/NBD parameters; ``alpha`` is in the time unit of the data."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    unit_days: float
    n_customers: int


@dataclass(frozen=True)
class ParetoNbdFit:
    """Fitted Pareto/NBD parameters: purchase rate Gamma(r, alpha), dropout
    rate Gamma(s, beta); ``alpha`` and ``beta`` in the data's time unit."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    unit_days: float
    n_customers: int

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.s, self.beta)


PurchaseFit = BetaGeoFit | ModifiedBetaGeoFit | ParetoNbdFit


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma spend parameters."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int


def _as_arrays(*columns: object) -> list[np.ndarray]:
    arrays = [np.asarray(column, dtype=float) for column in columns]
    if len({array.shape for array in arrays}) != 1:
        raise ValueError("frequency, recency and T must have the same length")
    return arrays


def _check_rfm(frequency: np.ndarray, recency: np.ndarray, t: np.ndarray) -> None:
    if frequency.size == 0:
        raise ValueError("no customers to fit")
    if not np.all(np.isfinite(frequency) & np.isfinite(recency) & np.isfinite(t)):
        raise ValueError("frequency, recency and T must be finite")
    if np.any(frequency < 0) or np.any(recency < 0) or np.any(recency > t + 1e-9):
        raise ValueError("need 0 <= recency <= T and frequency >= 0")
    if np.any((frequency == 0) & (recency > 0)):
        raise ValueError("recency must be 0 when frequency is 0")


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood."""
    r, alpha, a, b = params
    x = frequency
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            - (r + x) * np.log(alpha + recency),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def mbgnbd_log_likelihood(
    params: tuple[float, float, float, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    """Per-customer MBG/NBD log-likelihood.

    A customer survives x + 1 dropout chances (the first purchase and each
    repeat) and is alive at T, or survives x and drops out at the last one:
    L = B(a, b+x+1)/B(a, b) Gamma(r+x) alpha^r / Gamma(r)
        [(alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x)],
    for every x, one-time buyers included (Batislam et al. 2007, eq. 2).
    """
    r, alpha, a, b = params
    x = frequency
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x + 1) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + t)
    a4 = np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + recency)
    return a1 + a2 + np.logaddexp(a3, a4)


class _BgnbdObjective:
    """Mean negative BG/NBD (or, with ``modified``, MBG/NBD) log-likelihood
    of weighted (x, t_x, T) rows and its analytic gradient, both in
    log-parameters.

    The special functions depend on x alone and the logarithms on t_x or T
    alone, each with far fewer distinct values than there are rows, so they
    are evaluated once per distinct value and gathered; per row only the
    mixture of the two likelihood terms is left. One call costs about one
    likelihood evaluation, where a finite-difference gradient costs five.

    With k = 0 (BG/NBD) or 1 (MBG/NBD) the likelihood is
    B(a, b+x+k)/B(a, b) Gamma(r+x) alpha^r/Gamma(r) [(alpha+T)^-(r+x)
    + a/(b+x+k-1) (alpha+t_x)^-(r+x)], the second term only for x > 0 when
    k = 0. Derivatives (w3, w4 are the shares of the two terms):
    d/dr = psi(r+x) - psi(r) + ln(alpha) - w3 ln(alpha+T) - w4 ln(alpha+t_x);
    d/dalpha = r/alpha - (r+x) (w3/(alpha+T) + w4/(alpha+t_x));
    d/da = psi(a+b) - psi(a+b+x+k) + w4/a;
    d/db = psi(b+x+k) - psi(b) + psi(a+b) - psi(a+b+x+k) - w4/(b+x+k-1).
    """

    def __init__(
        self, x, tx, big_t, weight, penalizer: float, modified: bool = False
    ) -> None:
        self.ux, x_index = np.unique(x, return_inverse=True)
        self.utx, self.tx_index = np.unique(tx, return_inverse=True)
        self.ut, self.t_index = np.unique(big_t, return_inverse=True)
        self.x = x
        self.x_index = x_index
        self.weight = weight / weight.sum()
        # weight of each distinct x: sums of per-x terms need no gather
        self.x_weight = np.bincount(x_index, weights=self.weight)
        self.shift = 1.0 if modified else 0.0
        self.repeat = np.ones_like(self.ux, bool) if modified else self.ux > 0
        self.penalizer = penalizer

    def __call__(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        r, alpha, a, b = params
        ux, repeat, w = self.ux, self.repeat, self.weight
        bx = b + ux + self.shift  # b + x + k
        rx = r + self.x
        log_at = np.log(alpha + self.ut)[self.t_index]
        log_atx = np.log(alpha + self.utx)[self.tx_index]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_bx1 = np.where(repeat, 1 / (bx - 1), 0.0)
            log_a4 = np.where(repeat, np.log(a) + np.log(inv_bx1), -np.inf)
        a3 = -rx * log_at
        a4 = log_a4[self.x_index] - rx * log_atx
        mix = np.logaddexp(a3, a4)
        w3, w4 = np.exp(a3 - mix), np.exp(a4 - mix)
        per_x = (
            gammaln(r + ux)
            - gammaln(r)
            + betaln(a, bx)
            - betaln(a, b)
            + r * np.log(alpha)
        )
        xw = self.x_weight
        value = -(xw @ per_x + w @ mix)

        psi_ab = digamma(a + b) - digamma(a + bx)
        inv_at = (1 / (alpha + self.ut))[self.t_index]
        inv_atx = (1 / (alpha + self.utx))[self.tx_index]
        gradient = -np.array(
            [
                xw @ (digamma(r + ux) - digamma(r) + np.log(alpha))
                - w @ (w3 * log_at + w4 * log_atx),
                r / alpha - w @ (rx * (w3 * inv_at + w4 * inv_atx)),
                xw @ psi_ab + (w @ w4) / a,
                xw @ (digamma(bx) - digamma(b) + psi_ab)
                - w @ (w4 * inv_bx1[self.x_index]),
            ]
        )
        value += self.penalizer * (params**2).sum()
        # chain rule into log-parameters: d/dlog(p) = p d/dp
        gradient = gradient * params + 2 * self.penalizer * params**2
        return float(value), gradient


def _weighted_summary(
    frequency: np.ndarray, recency: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t_x, T) rows and how many customers each stands for, in
    a fixed order: the summed likelihood, and the fit, do not depend on the
    order the rows arrived in."""
    summary = (
        pd.DataFrame({"x": frequency, "tx": recency, "T": t})
        .value_counts()
        .reset_index(name="weight")
        .sort_values(["x", "tx", "T"], kind="stable")
    )
    return tuple(summary[c].to_numpy(float) for c in ("x", "tx", "T", "weight"))


def _fit_beta_geo(
    frequency: object,
    recency: object,
    t: object,
    unit_days: float,
    penalizer: float,
    modified: bool,
) -> tuple[tuple[float, float, float, float], float, int]:
    frequency, recency, t = _as_arrays(frequency, recency, t)
    _check_rfm(frequency, recency, t)
    x, tx, big_t, weight = _weighted_summary(frequency, recency, t)
    objective = _BgnbdObjective(x, tx, big_t, weight, penalizer, modified)
    start = np.log([1.0, max(np.mean(t), 1e-3), 1.0, 1.0])
    # The dbt models fit under crm_analytics.ml.one_thread: beside a running
    # build, OpenBLAS threads on the weighted sums doubled the CPU time
    # (714k simulated customers: 2.1 s, 1.1 s on one thread).
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", options=OPTIMIZER_OPTIONS
    )
    params = tuple(float(v) for v in np.exp(result.x))
    log_likelihood = mbgnbd_log_likelihood if modified else bgnbd_log_likelihood
    total = float((weight * log_likelihood(params, x, tx, big_t)).sum())
    return params, total, int(frequency.size)


def fit_bgnbd(
    frequency: object,
    recency: object,
    t: object,
    unit_days: float,
    penalizer: float = 0.0,
) -> BetaGeoFit:
    """Fit BG/NBD by maximum likelihood.

    Customers with identical (frequency, recency, T) are fitted once with a
    weight, which makes large inputs cheap; the optimiser gets the analytic
    gradient (see ``_BgnbdObjective``).
    """
    params, total, n = _fit_beta_geo(
        frequency, recency, t, unit_days, penalizer, modified=False
    )
    return BetaGeoFit(*params, total, float(unit_days), n)


def fit_mbgnbd(
    frequency: object,
    recency: object,
    t: object,
    unit_days: float,
    penalizer: float = 0.0,
) -> ModifiedBetaGeoFit:
    """Fit MBG/NBD by maximum likelihood (as ``fit_bgnbd``, analytic
    gradient)."""
    params, total, n = _fit_beta_geo(
        frequency, recency, t, unit_days, penalizer, modified=True
    )
    return ModifiedBetaGeoFit(*params, total, float(unit_days), n)


def bgnbd_p_alive(
    fit: BetaGeoFit, frequency: object, recency: object, t: object
) -> np.ndarray:
    """P(alive) at T of each customer (1 for one-time buyers, by the model)."""
    x, tx, big_t = _as_arrays(frequency, recency, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(fit.a)
            - np.log(np.maximum(fit.b + x - 1, 1e-300))
            + (fit.r + x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + tx))
        )
    return np.where(x > 0, 1 / (1 + np.exp(log_ratio)), 1.0)


def mbgnbd_p_alive(
    fit: ModifiedBetaGeoFit, frequency: object, recency: object, t: object
) -> np.ndarray:
    """P(alive) at T: 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), the
    share of the likelihood's first term; below 1 for one-time buyers too."""
    x, tx, big_t = _as_arrays(frequency, recency, t)
    log_ratio = (
        np.log(fit.a)
        - np.log(fit.b + x)
        + (fit.r + x) * (np.log(fit.alpha + big_t) - np.log(fit.alpha + tx))
    )
    return expit(-log_ratio)


def bgnbd_expected_purchases(
    fit: BetaGeoFit,
    horizon_days: float,
    frequency: object,
    recency: object,
    t: object,
) -> np.ndarray:
    """Expected purchases in the next ``horizon_days`` calendar days.

    The horizon is converted to the fit's time unit here, the one place
    where calendar time meets model time.
    """
    x, tx, big_t = _as_arrays(frequency, recency, t)
    horizon = horizon_days / fit.unit_days
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = horizon / (alpha + big_t + horizon)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        dropout = np.where(
            x > 0,
            a
            / np.maximum(b + x - 1, 1e-300)
            * ((alpha + big_t) / (alpha + tx)) ** (r + x),
            0.0,
        )
    return head * body / (1 + dropout)


def mbgnbd_expected_purchases(
    fit: ModifiedBetaGeoFit,
    horizon_days: float,
    frequency: object,
    recency: object,
    t: object,
) -> np.ndarray:
    """Expected purchases in the next ``horizon_days`` calendar days.

    Alive at T after x + 1 survived dropout chances, the customer's rate is
    Gamma(r+x, alpha+T) and their dropout probability Beta(a, b+x+1); from
    then on purchases and dropouts follow BG/NBD, so the expectation is
    P(alive) (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x+1; a+b+x; t/(alpha+T+t))] (Batislam et al. 2007, eq. 5).
    """
    x, tx, big_t = _as_arrays(frequency, recency, t)
    horizon = horizon_days / fit.unit_days
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = horizon / (alpha + big_t + horizon)
    head = (a + b + x) / (a - 1)
    body = 1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp2f1(
        r + x, b + x + 1, a + b + x, z
    )
    return head * body * mbgnbd_p_alive(fit, x, tx, big_t)


def _hyp2f1_a1(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """2F1(1, b; c; z) for 0 <= z < 1, fast near z = 1.

    scipy's hyp2f1 sums slowly close to z = 1 with small c (about 85 us a
    value at 1 - z = 1e-4, which is where the Pareto/NBD of a data set
    without dropout lives: beta in the millions). There the connection
    formula to 1 - z (DLMF 15.8.4) with a = 1, d = c - 1 - b, w = 1 - z,
    converges in a few terms:
    2F1(1, b; c; z) = (c-1)/d 2F1(1, b; 1-d; w)
                      + w^d z^(1-c) Gamma(c) Gamma(-d) / Gamma(b)
    (the second series, 2F1(c-1, c-b; c-b; w) = z^(1-c), sums in closed
    form). It is used where w < 0.05, c < 40 and d is at least 0.05 from
    an integer (where the two terms' gamma functions have poles that
    cancel); elsewhere scipy's hyp2f1. Agrees with scipy to 1e-8 relative
    (tests/python/test_clv.py).
    """
    b, c, z = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(b, c, z))
    out = np.empty_like(z)
    d = c - 1 - b
    w = 1 - z
    fast = (w < 0.05) & (np.abs(d - np.round(d)) > 0.05) & (c < 40)
    slow = ~fast
    out[slow] = hyp2f1(1.0, b[slow], c[slow], z[slow])
    b, c, d, w, z = b[fast], c[fast], d[fast], w[fast], z[fast]
    first = (c - 1) / d * hyp2f1(1.0, b, 1 - d, w)
    log_second = (
        d * np.log(w) + (1 - c) * np.log(z) + gammaln(c) + gammaln(-d) - gammaln(b)
    )
    out[fast] = first + gammasgn(-d) * np.exp(log_second)
    return out


def _log_pareto_a0(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: np.ndarray,
    tx: np.ndarray,
    big_t: np.ndarray,
) -> np.ndarray:
    """log A_0 of the Pareto/NBD likelihood (Fader, Hardie & Lee 2005, "A
    note on deriving the Pareto/NBD model", eq. 22), computed stably.

    A_0 = f(t_x) - f(T), the probability mass of dying between the last
    purchase and T; with alpha >= beta
    f(y) = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+y)) / (alpha+y)^(r+s+x)
    (with alpha < beta the roles swap: 2F1(r+s+x, r+x; ...; (beta-alpha)/
    (beta+y)) / (beta+y)^(r+s+x)). As written that 2F1 grows without bound
    as its argument nears 1 (c - a - b = -s < 0), and f(t_x) - f(T) is a
    small difference of large numbers. Euler's transformation
    2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) with c - a = 1
    turns it into a bounded series:
    alpha >= beta: log f(y) = -s ln(beta+y) - (r+x) ln(alpha+y)
        + ln 2F1(1, r+x; r+s+x+1; (alpha-beta)/(alpha+y)),
    alpha < beta:  log f(y) = (1-r-x) ln(alpha+y) - (s+1) ln(beta+y)
        + ln 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+y)),
    and the difference is taken in log space, log f(t_x) + log(1 -
    exp(log f(T) - log f(t_x))), f being decreasing in y. -inf when
    t_x = T.
    """
    c = r + s + x + 1

    def log_f(y: np.ndarray) -> np.ndarray:
        if alpha >= beta:
            return (
                -s * np.log(beta + y)
                - (r + x) * np.log(alpha + y)
                + np.log(_hyp2f1_a1(r + x, c, (alpha - beta) / (alpha + y)))
            )
        return (
            (1 - r - x) * np.log(alpha + y)
            - (s + 1) * np.log(beta + y)
            + np.log(_hyp2f1_a1(s + 1, c, (beta - alpha) / (beta + y)))
        )

    at_tx, at_t = log_f(tx), log_f(big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.minimum(at_t - at_tx, 0.0)
        return np.where(big_t > tx, at_tx + np.log(-np.expm1(gap)), -np.inf)


def _pareto_terms(
    params: tuple[float, float, float, float],
    x: np.ndarray,
    tx: np.ndarray,
    big_t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The log of the Pareto/NBD likelihood's constant, of its 'alive at T'
    term and of its 'died in (t_x, T]' term."""
    r, alpha, s, beta = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    died = (
        np.log(s) - np.log(r + s + x) + _log_pareto_a0(r, alpha, s, beta, x, tx, big_t)
    )
    return head, alive, died


def pareto_nbd_log_likelihood(
    params: tuple[float, float, float, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood:
    L = Gamma(r+x) alpha^r beta^s / Gamma(r) [(alpha+T)^-(r+x) (beta+T)^-s
        + s/(r+s+x) A_0] (Fader, Hardie & Lee 2005, note, eq. 22)."""
    x, tx, big_t = _as_arrays(frequency, recency, t)
    head, alive, died = _pareto_terms(params, x, tx, big_t)
    return head + np.logaddexp(alive, died)


def fit_pareto_nbd(
    frequency: object,
    recency: object,
    t: object,
    unit_days: float,
    penalizer: float = 0.0,
) -> ParetoNbdFit:
    """Fit Pareto/NBD by maximum likelihood: L-BFGS-B on log-parameters of
    the mean negative log-likelihood of the distinct (x, t_x, T) rows,
    weighted, with a central-difference gradient."""
    frequency, recency, t = _as_arrays(frequency, recency, t)
    _check_rfm(frequency, recency, t)
    x, tx, big_t, weight = _weighted_summary(frequency, recency, t)
    share = weight / weight.sum()

    def objective(log_params: np.ndarray) -> float:
        params = np.exp(log_params)
        ll = pareto_nbd_log_likelihood(tuple(params), x, tx, big_t)
        value = -(share @ ll) + penalizer * (params**2).sum()
        return float(value) if np.isfinite(value) else 1e300

    scale = max(float(np.mean(t)), 1e-3)
    start = np.log([1.0, scale, 1.0, scale])
    # Central differences: forward ones stop L-BFGS-B short of the optimum
    # (CDNOW: 1e-4 off lifetimes in beta; with these, 1e-5). The bounds
    # keep a data set without dropout (s -> 0, beta -> infinity) finite.
    result = minimize(
        objective,
        start,
        method="L-BFGS-B",
        jac="3-point",
        bounds=[(-20.0, 20.0)] * 4,
        options=OPTIMIZER_OPTIONS,
    )
    params = tuple(float(v) for v in np.exp(result.x))
    total = float((weight * pareto_nbd_log_likelihood(params, x, tx, big_t)).sum())
    return ParetoNbdFit(*params, total, float(unit_days), int(frequency.size))


def pareto_nbd_p_alive(
    fit: ParetoNbdFit, frequency: object, recency: object, t: object
) -> np.ndarray:
    """P(alive) at T: the share of the 'alive at T' term in the likelihood,
    1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A_0)."""
    x, tx, big_t = _as_arrays(frequency, recency, t)
    _, alive, died = _pareto_terms(fit.params, x, tx, big_t)
    return expit(alive - died)


def pareto_nbd_expected_purchases(
    fit: ParetoNbdFit,
    horizon_days: float,
    frequency: object,
    recency: object,
    t: object,
) -> np.ndarray:
    """Expected purchases in the next ``horizon_days`` calendar days:
    P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
    (Fader, Hardie & Lee 2005, note, eq. 26); at s = 1 the bracket over
    (s - 1) is its limit ln(1 + t/(beta+T))."""
    x, tx, big_t = _as_arrays(frequency, recency, t)
    horizon = horizon_days / fit.unit_days
    r, alpha, s, beta = fit.params
    log_ratio = np.log1p(horizon / (beta + big_t))  # ln((beta+T+t)/(beta+T))
    if abs(s - 1) < 1e-9:
        bracket = log_ratio
    else:
        bracket = -np.expm1(-(s - 1) * log_ratio) / (s - 1)
    rate = (r + x) * (beta + big_t) / (alpha + big_t)
    return rate * bracket * pareto_nbd_p_alive(fit, x, tx, big_t)


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean repeat spend."""
    p, q, v = params
    x, m = frequency, monetary
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def fit_gamma_gamma(frequency: object, monetary_value: object) -> GammaGammaFit:
    """Fit Gamma-Gamma on the repeat buyers (frequency > 0, spend > 0)."""
    x, m = _as_arrays(frequency, monetary_value)
    keep = (x > 0) & (m > 0)
    if keep.sum() < 3:
        raise ValueError("Gamma-Gamma needs at least 3 repeat buyers with spend")
    order = np.lexsort((m[keep], x[keep]))
    x, m = x[keep][order], m[keep][order]

    def objective(log_params: np.ndarray) -> float:
        return -gamma_gamma_log_likelihood(tuple(np.exp(log_params)), x, m).mean()

    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-3)])
    result = minimize(objective, start, method="L-BFGS-B", options=OPTIMIZER_OPTIONS)
    p, q, v = np.exp(result.x)
    total = float(gamma_gamma_log_likelihood((p, q, v), x, m).sum())
    return GammaGammaFit(float(p), float(q), float(v), total, int(keep.sum()))


def gamma_gamma_expected_spend(
    fit: GammaGammaFit, frequency: object, monetary_value: object
) -> np.ndarray:
    """Expected mean value of a customer's future purchases.

    For one-time buyers this is the population mean p v / (q - 1).
    """
    x, m = _as_arrays(frequency, monetary_value)
    return (fit.p * (fit.v + x * m)) / (fit.p * x + fit.q - 1)


PURCHASE_MODELS = ("bgnbd", "mbgnbd", "pareto_nbd")
"""The purchase-model candidates, in the order they are fitted and listed."""

_FITTERS = {"bgnbd": fit_bgnbd, "mbgnbd": fit_mbgnbd, "pareto_nbd": fit_pareto_nbd}
_FIT_CLASSES = {
    "bgnbd": BetaGeoFit,
    "mbgnbd": ModifiedBetaGeoFit,
    "pareto_nbd": ParetoNbdFit,
}
PARAMETER_NAMES = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}


def candidate_of(fit: PurchaseFit) -> str:
    """The candidate name of a purchase-model fit."""
    for name, cls in _FIT_CLASSES.items():
        if type(fit) is cls:
            return name
    raise TypeError(f"not a purchase-model fit: {type(fit).__name__}")


def fit_purchase_model(
    candidate: str, frequency: object, recency: object, t: object, unit_days: float
) -> PurchaseFit:
    """Fit one of PURCHASE_MODELS."""
    return _FITTERS[candidate](frequency, recency, t, unit_days)


def p_alive(fit: PurchaseFit, frequency: object, recency: object, t: object):
    """P(alive) at T under whichever purchase model ``fit`` is."""
    function = {
        "bgnbd": bgnbd_p_alive,
        "mbgnbd": mbgnbd_p_alive,
        "pareto_nbd": pareto_nbd_p_alive,
    }[candidate_of(fit)]
    return function(fit, frequency, recency, t)


def expected_purchases(
    fit: PurchaseFit,
    horizon_days: float,
    frequency: object,
    recency: object,
    t: object,
) -> np.ndarray:
    """Expected purchases in the next ``horizon_days`` calendar days under
    whichever purchase model ``fit`` is."""
    function = {
        "bgnbd": bgnbd_expected_purchases,
        "mbgnbd": mbgnbd_expected_purchases,
        "pareto_nbd": pareto_nbd_expected_purchases,
    }[candidate_of(fit)]
    return function(fit, horizon_days, frequency, recency, t)


def customer_lifetime_value(
    purchases: PurchaseFit,
    gamma_gamma: GammaGammaFit,
    frequency: object,
    recency: object,
    t: object,
    monetary_value: object,
    months: int,
    monthly_discount_rate: float,
) -> np.ndarray:
    """Discounted expected value over the next ``months`` months.

    Month i contributes (E[purchases by month i] - E[purchases by month
    i - 1]) x expected spend / (1 + rate)^i; a month is 365.25 / 12 days.
    ``purchases`` is any of the three purchase-model fits.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_discount_rate < 0:
        raise ValueError("monthly_discount_rate must be >= 0")
    spend = gamma_gamma_expected_spend(gamma_gamma, frequency, monetary_value)
    value = np.zeros_like(spend)
    previous = np.zeros_like(spend)
    for month in range(1, months + 1):
        cumulative = expected_purchases(
            purchases, month * DAYS_PER_MONTH, frequency, recency, t
        )
        value += (cumulative - previous) * spend / (1 + monthly_discount_rate) ** month
        previous = cumulative
    return value


UNIT_DAYS = {"day": 1.0, "week": 7.0}
"""Days in each RFM time unit (column rfm_time_unit)."""

MIN_REPEAT_BUYERS = 10

MAX_FIT_CUSTOMERS = 100_000
"""The purchase models and Gamma-Gamma are fitted (and judged on the
holdout) on at most this many buyers, a fixed sample (``fit_sample``);
every buyer is then scored. Pareto/NBD's likelihood took 118 s on 714k
buyers and its holdout refit 61 s; at 100k its parameters' standard
errors are about 1%."""


def fit_sample(frame: pd.DataFrame, limit: int = MAX_FIT_CUSTOMERS) -> pd.DataFrame:
    """At most ``limit`` rows of ``frame``, the same ones every build: those
    whose customer_id hashes lowest (no seed: the sample does not move when
    other customers arrive, only grows or shrinks at the edge)."""
    if len(frame) <= limit:
        return frame
    hashes = pd.util.hash_pandas_object(frame["customer_id"], index=False)
    return frame.loc[hashes.nsmallest(limit).index]


"""Below this many repeat buyers the models are not fitted (tables stay empty)."""

P_ALIVE_MIN_STD = 0.02
P_ALIVE_NEAR_ONE = 0.99
P_ALIVE_MAX_SHARE_NEAR_ONE = 0.9
"""P(alive) is degenerate (nearly constant, no use for ranking) when its
standard deviation over the buyers is below P_ALIVE_MIN_STD or more than
P_ALIVE_MAX_SHARE_NEAR_ONE of the buyers are above P_ALIVE_NEAR_ONE."""

RECENCY_RISK_BANDS = ((1.0, "low"), (3.0, "medium"), (np.inf, "high"))
"""recency_risk_ratio below 1: within the customer's usual gap; 1 to 3:
overdue; 3 or more: three usual gaps or more without a purchase."""

MODEL_PURCHASES = "clv_purchases"
MODEL_SPEND = "clv_spend"

PARAMETER_COLUMNS = {
    "model_name": "string",
    "candidate": "string",
    "metric_name": "string",
    "value": "float64",
    "is_published": "bool",
    "note": "string",
}

PREDICTION_COLUMNS = {
    "customer_id": "string",
    "rfm_time_unit": "string",
    "purchase_model": "string",
    "recency_risk_band": "string",
    "p_alive": "float64",
    "expected_purchases_30d": "float64",
    "expected_purchases_90d": "float64",
    "expected_purchases_365d": "float64",
    "expected_avg_order_value": "float64",
    "predicted_clv": "float64",
    "days_since_last_purchase": "float64",
    "expected_days_between_purchases": "float64",
    "recency_risk_ratio": "float64",
    "clv_horizon_months": "int64",
    "monthly_discount_rate": "float64",
}


def unit_days_of(rfm: pd.DataFrame) -> float:
    """The days per time unit of an RFM frame, from its rfm_time_unit column."""
    units = set(rfm["rfm_time_unit"].dropna().unique())
    if len(units) != 1 or next(iter(units)) not in UNIT_DAYS:
        raise ValueError(f"rfm_time_unit must be one of {sorted(UNIT_DAYS)}: {units}")
    return UNIT_DAYS[next(iter(units))]


def p_alive_summary(values: object) -> dict[str, float]:
    """Mean, standard deviation and share above P_ALIVE_NEAR_ONE of P(alive),
    and whether it is degenerate (1.0) or not (0.0); see P_ALIVE_MIN_STD."""
    values = np.asarray(values, dtype=float)
    std = float(values.std())
    near_one = float((values > P_ALIVE_NEAR_ONE).mean())
    degenerate = std < P_ALIVE_MIN_STD or near_one > P_ALIVE_MAX_SHARE_NEAR_ONE
    return {
        "p_alive_mean": float(values.mean()),
        "p_alive_std": std,
        "p_alive_share_above_099": near_one,
        "p_alive_degenerate": float(degenerate),
    }


def recency_risk(
    frequency: object, recency: object, t: object, unit_days: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since the last purchase, the expected days between purchases and
    their ratio, for every customer.

    The expected gap is the customer's own mean gap shrunk towards the
    population's by one pseudo gap: (first-to-last purchase days + M) /
    (repeat purchases + 1), M being the median over repeat buyers of their
    mean gap. A one-time buyer's expected gap is M; a frequent buyer's is
    close to their own. Unlike P(alive) this needs no model and does not
    treat a one-time buyer as alive for ever.
    """
    x, tx, big_t = _as_arrays(frequency, recency, t)
    days_since = (big_t - tx) * unit_days
    repeat = x > 0
    own_gap = tx[repeat] * unit_days / x[repeat]
    typical = float(np.median(own_gap)) if own_gap.size else np.nan
    expected_gap = (tx * unit_days + typical) / (x + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = days_since / expected_gap
    return days_since, expected_gap, ratio


def recency_risk_band(ratio: np.ndarray) -> np.ndarray:
    """low / medium / high by RECENCY_RISK_BANDS."""
    bands = np.full(ratio.shape, RECENCY_RISK_BANDS[-1][1], dtype=object)
    for upper, name in reversed(RECENCY_RISK_BANDS):
        bands[ratio < upper] = name
    return bands


def evaluate_holdout(
    holdout: pd.DataFrame, candidate: str = "bgnbd"
) -> list[tuple[str, float]]:
    """Refit ``candidate`` on the calibration summary of ``holdout``
    (int_clv_holdout) and compare its expected purchases over the holdout
    days with the purchase periods the customers really made.

    Returns (metric_name, value) pairs; none when there are too few repeat
    buyers in the calibration period.
    """
    if (holdout["frequency"] > 0).sum() < MIN_REPEAT_BUYERS:
        return []
    if "customer_id" in holdout.columns:
        holdout = holdout.sort_values("customer_id", kind="stable")
    holdout_days = float(holdout["holdout_days"].iloc[0])
    rfm = (holdout["frequency"], holdout["recency"], holdout["t"])
    fit = fit_purchase_model(candidate, *rfm, unit_days_of(holdout))
    predicted = expected_purchases(fit, holdout_days, *rfm)
    actual = holdout["count_holdout_periods"].to_numpy(float)
    correlation = (
        float(np.corrcoef(predicted, actual)[0, 1]) if actual.std() > 0 else np.nan
    )
    total = float(actual.sum())
    return [
        ("holdout_days", holdout_days),
        ("holdout_customers", float(len(actual))),
        ("holdout_actual_purchases", total),
        ("holdout_predicted_purchases", float(predicted.sum())),
        ("holdout_mean_absolute_error", float(np.abs(predicted - actual).mean())),
        (
            "holdout_aggregate_error_pct",
            float(predicted.sum() / total - 1) if total > 0 else np.nan,
        ),
        ("holdout_correlation", correlation),
        ("holdout_calibration_log_likelihood", fit.log_likelihood),
    ]


def evaluate_bgnbd_holdout(holdout: pd.DataFrame) -> list[tuple[str, float]]:
    """``evaluate_holdout`` of BG/NBD."""
    return evaluate_holdout(holdout, "bgnbd")


SELECTION_METRIC = "holdout_mean_absolute_error"
SELECTION_TIE = 0.001
TIE_ORDER = ("mbgnbd", "pareto_nbd", "bgnbd")
"""The published purchase model is the candidate with the lowest mean
absolute error per customer between predicted and actual holdout purchase
periods; without a holdout evaluation, the highest log-likelihood.
Candidates within SELECTION_TIE (relative) of the lowest error are tied and
the first of them in TIE_ORDER wins: when the data show no dropout the
three models collapse to the same NBD and their errors agree to six digits
(Online Retail), and the choice must not hang on the last digits of three
optimisers. MBG/NBD comes first because it does not declare one-time
buyers alive by construction, as BG/NBD does, and is cheaper to fit than
Pareto/NBD."""


MAX_RATE_SHAPE = 1e4
"""A purchase-rate gamma shape r above this has run away: the spread of the
buyers' purchase rates (coefficient of variation 1/sqrt(r), here under 1%)
is too small to estimate, and r and alpha climb together without end (r =
4.5e12 on 1,000 buyers with 3 orders each). Real fits are far below it
(demo 1.2, CDNOW 0.24 to 0.55, Online Retail 0.82)."""

FLAT_LIKELIHOOD_TOLERANCE = 1e-6
"""The likelihood is flat when multiplying r and alpha by 10 (same mean
purchase rate, a third of the spread) changes the mean log-likelihood per
customer by less than this: the data cannot tell the spread of the rates,
so the fit's r and alpha are arbitrary."""

_LOG_LIKELIHOODS = {
    "bgnbd": bgnbd_log_likelihood,
    "mbgnbd": mbgnbd_log_likelihood,
    "pareto_nbd": pareto_nbd_log_likelihood,
}


def degenerate_reason(
    fit: PurchaseFit, frequency: object, recency: object, t: object
) -> str | None:
    """Why the purchase-model ``fit`` cannot be used, or None: a parameter
    or the log-likelihood that is not finite, the rate shape r above
    MAX_RATE_SHAPE (runaway), a likelihood flat in the spread of the rates
    (FLAT_LIKELIHOOD_TOLERANCE), or expected purchases or P(alive) that are
    not finite for some customer. The dropout parameters may go to their
    no-dropout limit (a, s -> 0): that is a data set without dropout, and its
    predictions stay finite (Online Retail)."""
    candidate = candidate_of(fit)
    x, tx, big_t = _as_arrays(frequency, recency, t)
    names = PARAMETER_NAMES[candidate]
    values = [getattr(fit, name) for name in names]
    if not all(np.isfinite(v) and v > 0 for v in values):
        shown = ", ".join(f"{n} {v:.3g}" for n, v in zip(names, values, strict=True))
        return f"the parameters are not finite and positive ({shown})"
    if not np.isfinite(fit.log_likelihood):
        return "the log-likelihood is not finite at the optimum"
    spread_hint = (
        "the buyers' purchase rates show no spread the model can estimate "
        "(all buy at about the same rate)"
    )
    if fit.r > MAX_RATE_SHAPE:
        return (
            f"r ran away to {fit.r:.2g} (alpha {fit.alpha:.2g}; above "
            f"{MAX_RATE_SHAPE:.0g}): {spread_hint}"
        )
    log_likelihood = _LOG_LIKELIHOODS[candidate]
    with np.errstate(all="ignore"):
        here = log_likelihood(tuple(values), x, tx, big_t).mean()
        tighter = (10 * values[0], 10 * values[1], *values[2:])
        there = log_likelihood(tighter, x, tx, big_t).mean()
    if not (np.isfinite(here) and np.isfinite(there)):
        return "the log-likelihood is not finite near the optimum"
    if abs(there - here) < FLAT_LIKELIHOOD_TOLERANCE:
        return (
            f"the likelihood is flat in r and alpha (r {fit.r:.3g}, alpha "
            f"{fit.alpha:.3g}; x10 changes it by {abs(there - here):.1e} per "
            f"customer): {spread_hint}"
        )
    with np.errstate(all="ignore"):
        alive = p_alive(fit, x, tx, big_t)
        purchases = expected_purchases(fit, 365.0, x, tx, big_t)
    bad = ~(np.isfinite(alive) & np.isfinite(purchases))
    if bad.any():
        return (
            f"P(alive) or expected purchases are not finite for {int(bad.sum())} "
            f"of {bad.size} customers"
        )
    return None


def _rows(model, candidate, metrics, published=False, note=None) -> list[tuple]:
    return [(model, candidate, name, value, published, note) for name, value in metrics]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(PARAMETER_COLUMNS)).astype(PARAMETER_COLUMNS)


def not_fitted_parameters(reason: str) -> pd.DataFrame:
    """The parameter table of a build whose CLV models could not be fitted:
    one 'fitted' = 0 row per model, on its default candidate, with the
    reason as note."""
    return _frame(
        _rows(MODEL_PURCHASES, "bgnbd", [("fitted", 0.0)], True, reason)
        + _rows(MODEL_SPEND, "gamma_gamma", [("fitted", 0.0)], True, reason)
    )


def fit_clv_parameters(
    rfm: pd.DataFrame, holdout: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Fit the purchase models (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma
    on an RFM summary (int_customer_order_summary), and pick the purchase model to
    publish.

    Returns a long table (model_name, candidate, metric_name, value,
    is_published, note): per candidate its parameters, log-likelihood,
    customer count, P(alive) summary (``p_alive_summary``), 'fitted' and,
    given ``holdout`` (int_clv_holdout), its holdout evaluation; the
    candidate with the best SELECTION_METRIC is published, its rows say so
    and its 'fitted' row's note names the criterion and the figures. With
    fewer than MIN_REPEAT_BUYERS repeat buyers nothing is fitted
    (``not_fitted_parameters``). Above MAX_FIT_CUSTOMERS buyers, the fits
    and the holdout use a fixed sample of them (``fit_sample``).
    """
    repeat_buyers = int((rfm["frequency"] > 0).sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        return not_fitted_parameters(
            f"{repeat_buyers} repeat buyers; at least {MIN_REPEAT_BUYERS} needed"
        )
    rfm = fit_sample(rfm).sort_values("customer_id", kind="stable")
    if holdout is not None and "customer_id" in holdout.columns:
        holdout = fit_sample(holdout)
    unit_days = unit_days_of(rfm)
    x, tx, t = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "t"))
    try:
        spend = fit_gamma_gamma(rfm["frequency"], rfm["monetary_value"])
    except ValueError as error:
        return not_fitted_parameters(str(error))

    metrics: dict[str, list[tuple[str, float]]] = {}
    failures: dict[str, str] = {}
    for candidate in PURCHASE_MODELS:
        try:
            fit = fit_purchase_model(candidate, x, tx, t, unit_days)
            degenerate = degenerate_reason(fit, x, tx, t)
            if degenerate is not None:
                raise FloatingPointError(degenerate)
            alive = p_alive(fit, x, tx, t)
        except (ValueError, FloatingPointError) as error:
            failures[candidate] = f"{candidate}: {error}"
            continue
        metrics[candidate] = [
            *((name, getattr(fit, name)) for name in PARAMETER_NAMES[candidate]),
            ("log_likelihood", fit.log_likelihood),
            ("unit_days", fit.unit_days),
            ("n_customers", float(fit.n_customers)),
            *p_alive_summary(alive).items(),
        ]
        if holdout is not None:
            metrics[candidate] += evaluate_holdout(holdout, candidate)
    if not metrics:
        return not_fitted_parameters(
            "no purchase model could be fitted: " + "; ".join(failures.values())
        )

    def score(candidate: str) -> float:
        return dict(metrics[candidate]).get(SELECTION_METRIC, np.nan)

    scored = [c for c in metrics if np.isfinite(score(c))]
    if scored:
        best = min(score(c) for c in scored)
        tied = [c for c in scored if score(c) <= best * (1 + SELECTION_TIE)]
        chosen = min(tied, key=TIE_ORDER.index)
        figures = ", ".join(f"{c} {score(c):.4f}" for c in scored)
        why = f"published: lowest holdout mean absolute error per customer ({figures})"
        if len(tied) > 1:
            why += (
                f"; {', '.join(tied)} within {SELECTION_TIE:.1%} of the lowest "
                f"count as tied, the first of {', '.join(TIE_ORDER)} wins"
            )
    else:

        def log_likelihood(candidate: str) -> float:
            return dict(metrics[candidate])["log_likelihood"]

        chosen = max(metrics, key=log_likelihood)
        figures = ", ".join(f"{c} {log_likelihood(c):.1f}" for c in metrics)
        why = (
            "published: highest log-likelihood, no holdout evaluation "
            f"(too few repeat buyers in the calibration period) ({figures})"
        )
    rows: list[tuple] = []
    for candidate in PURCHASE_MODELS:
        published = candidate == chosen
        if candidate in failures:
            reason = f"not fitted: {failures[candidate]}"
            rows += _rows(MODEL_PURCHASES, candidate, [("fitted", 0.0)], False, reason)
            continue
        note = why if published else None
        rows += _rows(MODEL_PURCHASES, candidate, [("fitted", 1.0)], published, note)
        summary = dict(metrics[candidate])
        for name, value in metrics[candidate]:
            note = None
            if name == "p_alive_degenerate" and value == 1.0:
                note = (
                    f"P(alive) is nearly constant (std {summary['p_alive_std']:.3f}, "
                    f"{summary['p_alive_share_above_099']:.0%} above "
                    f"{P_ALIVE_NEAR_ONE}): rank by recency_risk_ratio instead"
                )
            rows.append((MODEL_PURCHASES, candidate, name, value, published, note))
    rows += _rows(
        MODEL_SPEND,
        "gamma_gamma",
        [
            ("fitted", 1.0),
            ("p", spend.p),
            ("q", spend.q),
            ("v", spend.v),
            ("log_likelihood", spend.log_likelihood),
            ("n_customers", float(spend.n_customers)),
        ],
        True,
    )
    return _frame(rows)


def not_fitted_reason(parameters: pd.DataFrame) -> str | None:
    """The reason the CLV models were not fitted, or None when they were."""
    if parameters.empty:
        return "no parameters"
    fitted = parameters[
        (parameters["metric_name"] == "fitted") & parameters["is_published"]
    ]
    failed = fitted[fitted["value"] != 1.0]
    if failed.empty:
        return None
    return str(failed["note"].iloc[0])


def not_fitted_warning(parameters: pd.DataFrame) -> str | None:
    """The one build-log line for a build whose CLV models are not fitted."""
    reason = not_fitted_reason(parameters)
    if reason is None:
        return None
    return f"WARNING clv: not fitted ({reason}); fct_customer_clv_predictions is empty"


def fits_from_parameters(
    parameters: pd.DataFrame,
) -> tuple[PurchaseFit, GammaGammaFit]:
    """Rebuild the published purchase-model fit and the Gamma-Gamma fit from
    the table fit_clv_parameters wrote."""
    published = parameters[parameters["is_published"]]
    value = {
        (row.model_name, row.metric_name): float(row.value)
        for row in published.itertuples()
    }
    candidates = set(
        published.loc[published["model_name"] == MODEL_PURCHASES, "candidate"]
    )
    if len(candidates) != 1:
        raise ValueError(f"expected one published purchase model: {candidates}")
    candidate = candidates.pop()
    purchases = _FIT_CLASSES[candidate](
        *(value[(MODEL_PURCHASES, k)] for k in PARAMETER_NAMES[candidate]),
        log_likelihood=value[(MODEL_PURCHASES, "log_likelihood")],
        unit_days=value[(MODEL_PURCHASES, "unit_days")],
        n_customers=int(value[(MODEL_PURCHASES, "n_customers")]),
    )
    spend = GammaGammaFit(
        *(value[(MODEL_SPEND, k)] for k in ("p", "q", "v", "log_likelihood")),
        n_customers=int(value[(MODEL_SPEND, "n_customers")]),
    )
    return purchases, spend


def score_clv(
    rfm: pd.DataFrame,
    parameters: pd.DataFrame,
    horizon_months: int,
    monthly_discount_rate: float,
) -> pd.DataFrame:
    """One row per customer of ``rfm``, scored by the published purchase
    model and Gamma-Gamma: P(alive), expected purchases in the next 30 / 90
    / 365 days, expected order value, discounted CLV, and the model-free
    recency risk (``recency_risk``). Empty when the models were not
    fitted."""
    if rfm.empty or not_fitted_reason(parameters) is not None:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in PREDICTION_COLUMNS.items()}
        )
    purchases, spend = fits_from_parameters(parameters)
    if unit_days_of(rfm) != purchases.unit_days:
        raise ValueError(
            "the RFM time unit differs from the one the model was fitted in"
        )
    x, tx, t, m = (
        rfm[c].to_numpy(float) for c in ("frequency", "recency", "t", "monetary_value")
    )
    days_since, expected_gap, ratio = recency_risk(x, tx, t, purchases.unit_days)
    scored = pd.DataFrame(
        {
            "customer_id": rfm["customer_id"].to_numpy(),
            "rfm_time_unit": rfm["rfm_time_unit"].to_numpy(),
            "purchase_model": candidate_of(purchases),
            "recency_risk_band": recency_risk_band(ratio),
            "p_alive": p_alive(purchases, x, tx, t),
            "expected_purchases_30d": expected_purchases(purchases, 30, x, tx, t),
            "expected_purchases_90d": expected_purchases(purchases, 90, x, tx, t),
            "expected_purchases_365d": expected_purchases(purchases, 365, x, tx, t),
            "expected_avg_order_value": gamma_gamma_expected_spend(spend, x, m),
            "predicted_clv": customer_lifetime_value(
                purchases, spend, x, tx, t, m, horizon_months, monthly_discount_rate
            ),
            "days_since_last_purchase": days_since,
            "expected_days_between_purchases": expected_gap,
            "recency_risk_ratio": ratio,
            "clv_horizon_months": horizon_months,
            "monthly_discount_rate": monthly_discount_rate,
        }
    )
    return scored.astype(PREDICTION_COLUMNS)
