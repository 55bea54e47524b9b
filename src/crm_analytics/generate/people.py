"""Persons (the truth entity), the product catalogue, the planted bundles
and the planted product collections.

All functions are pure: they take a seeded :class:`numpy.random.Generator`
and return new frames. Times are int64 epoch seconds (UTC), dates int32
epoch days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_analytics.generate import pools

DAY = 86_400
YEAR = 365.25 * DAY

ANOMALY_KINDS: tuple[str, ...] = ("", "bulk_reseller", "return_abuser", "burst_buyer")


@dataclass(frozen=True)
class Window:
    """The simulated period: ``start`` inclusive, ``end`` exclusive (epoch s)."""

    start: int
    end: int

    @classmethod
    def from_dates(cls, start: str, end: str) -> Window:
        """Build a window from ISO dates; ``end`` is the last included day."""
        start_s = int(pd.Timestamp(start).value // 1_000_000_000)
        end_s = int(pd.Timestamp(end).value // 1_000_000_000) + DAY
        return cls(start_s, end_s)

    @property
    def years(self) -> float:
        """Length of the window in years."""
        return (self.end - self.start) / YEAR


def _epoch(date: str) -> int:
    return int(pd.Timestamp(date).value // 1_000_000_000)


def _pick(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Draw ``size`` category codes from a weight vector."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _name_weights(names: tuple[str, ...]) -> np.ndarray:
    """Pool weights: names with non-ASCII letters or quotes are rarer."""
    special = np.array([not n.isascii() or "'" in n for n in names])
    return np.where(special, 0.15, 1.0)


def simulate_persons(n: int, window: Window, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate ``n`` persons with their latent traits and contact details.

    Returns one row per person with integer codes (country, persona, gender,
    name pool indices, ...) and the canonical email and phone parts. Churn and
    behaviour are added later by :mod:`behaviour`.
    """
    n_f = len(pools.FIRST_NAMES_F)
    country = _pick(rng, pools.COUNTRY_WEIGHTS, n)
    gender = _pick(rng, (0.49, 0.49, 0.02), n)  # 0 female, 1 male, 2 other
    first_f = _pick(rng, _name_weights(pools.FIRST_NAMES_F), n)
    first_m = n_f + _pick(rng, _name_weights(pools.FIRST_NAMES_M), n)
    coin = rng.random(n) < 0.5
    first = np.where(gender == 0, first_f, np.where(gender == 1, first_m, 0))
    first = np.where(gender == 2, np.where(coin, first_f, first_m), first)
    last = _pick(rng, _name_weights(pools.LAST_NAMES), n)

    persona = _pick(rng, pools.PERSONA_WEIGHTS, n)
    persona_shift = np.array([0.35, 0.1, -0.2, -0.1, 0.15])
    satisfaction = np.round(persona_shift[persona] + rng.normal(0, 1, n), 4)
    income_p = np.array([[0.3, 0.5, 0.2], [0.05, 0.45, 0.5], [0.5, 0.42, 0.08]])
    income_p = np.vstack([income_p, [[0.35, 0.5, 0.15], [0.2, 0.6, 0.2]]])
    cum = income_p.cumsum(axis=1)[persona]
    income = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)

    age_years = 18 + rng.gamma(4.0, 6.5, n).clip(0, 67)
    birth = (window.start - age_years * YEAR - rng.integers(0, DAY, n)) // DAY

    early = rng.random(n) < 0.4
    pre_start = _epoch("2019-01-01")
    signup = np.where(
        early,
        rng.integers(pre_start, window.start, n),
        window.start + (rng.random(n) ** 1.15 * (window.end - window.start)),
    ).astype(np.int64)

    has_shop = rng.random(n) < 0.85
    has_crm = rng.random(n) < 0.55
    has_crm |= ~has_shop
    seasonal = rng.random(n) < 0.08
    anomaly = np.zeros(n, dtype=np.int8)
    anomalous = has_shop & (rng.random(n) < 0.005)
    anomaly[anomalous] = rng.integers(1, 4, int(anomalous.sum()))
    consent_p = np.array([0.7, 0.5, 0.75, 0.4, 0.65])[persona]
    crm_consent = rng.random(n) < consent_p
    shop_opt_in = rng.random(n) < consent_p - 0.1

    # Address and phone parts, per country.
    city = np.zeros(n, dtype=np.int64)
    street = np.zeros(n, dtype=np.int64)
    area = np.zeros(n, dtype=np.int64)
    for code, iso in enumerate(pools.COUNTRIES):
        idx = np.flatnonzero(country == code)
        city[idx] = rng.integers(0, len(pools.CITIES[iso]), idx.size)
        street[idx] = rng.integers(0, len(pools.STREETS[iso]), idx.size)
        area[idx] = rng.integers(0, len(pools.PHONE_PLANS[iso]["areas"]), idx.size)
    house_no = rng.integers(1, 200, n)
    postal_seed = rng.integers(0, 10**6, n)
    sub_a = rng.integers(200, 1000, n)  # first subscriber group, no leading 0
    sub_b = rng.integers(0, 10_000, n)

    persons = pd.DataFrame(
        {
            "person_no": np.arange(1, n + 1, dtype=np.int64),
            "country": country.astype(np.int8),
            "gender": gender.astype(np.int8),
            "first": first.astype(np.int16),
            "last": last.astype(np.int16),
            "birth_days": birth.astype(np.int32),
            "income": income.astype(np.int8),
            "persona": persona.astype(np.int8),
            "satisfaction": satisfaction,
            "signup_at": signup,
            "has_shop": has_shop,
            "has_crm": has_crm,
            "is_seasonal": seasonal,
            "anomaly": anomaly,
            "crm_consent": crm_consent,
            "shop_opt_in": shop_opt_in,
            "city": city,
            "street": street,
            "house_no": house_no,
            "postal_seed": postal_seed,
            "area": area,
            "sub_a": sub_a,
            "sub_b": sub_b,
            "household": np.full(n, -1, dtype=np.int64),
            "email_no": rng.integers(1, 1000, n),
            "email_sep": rng.integers(0, 3, n),
            "email_numbered": rng.random(n) < 0.5,
            "domain": rng.integers(0, len(pools.EMAIL_DOMAINS), n),
        }
    )
    return _plant_households(persons, rng)


def _plant_households(persons: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Pair ~5% of persons into two-person households sharing a phone.

    The partner takes the head's last name, country, address and phone but
    keeps a first name with a different initial (and so a different email).
    """
    n = len(persons)
    n_pairs = int(round(n * 0.025))
    if n_pairs == 0:
        return persons
    chosen = rng.choice(n, size=2 * n_pairs, replace=False)
    head, partner = chosen[:n_pairs], chosen[n_pairs:]
    out = persons.copy()
    shared = ["last", "country", "city", "street", "house_no", "postal_seed"]
    shared += ["area", "sub_a", "sub_b"]
    for col in shared:
        values = out[col].to_numpy().copy()
        values[partner] = values[head]
        out[col] = values
    first_pool = np.array(pools.FIRST_NAMES_F + pools.FIRST_NAMES_M)
    initials = np.array([pools.ascii_fold(name)[0] for name in first_pool])
    first = out["first"].to_numpy().copy()
    n_f = len(pools.FIRST_NAMES_F)
    for _ in range(50):  # resample partners whose initial clashes with the head
        clash = np.flatnonzero(initials[first[partner]] == initials[first[head]])
        if clash.size == 0:
            break
        female = out["gender"].to_numpy()[partner[clash]] == 0
        first[partner[clash]] = np.where(
            female,
            rng.integers(0, n_f, clash.size),
            n_f + rng.integers(0, len(first_pool) - n_f, clash.size),
        )
    out["first"] = first
    household = out["household"].to_numpy().copy()
    household[head] = np.arange(1, n_pairs + 1)
    household[partner] = np.arange(1, n_pairs + 1)
    out["household"] = household
    return out


def simulate_products(rng: np.random.Generator, n_products: int = 200) -> pd.DataFrame:
    """Simulate the catalogue: ~``n_products`` products over 8 categories.

    List prices are lognormal per category; unit cost is 40-75% of list price;
    ``popularity`` is a Zipf-like weight used when sampling order lines.
    """
    cats = pools.CATEGORIES
    per_cat = np.full(len(cats), n_products // len(cats))
    per_cat[: n_products - per_cat.sum()] += 1
    category = np.repeat(np.arange(len(cats)), per_cat)
    n = category.size
    sub = np.zeros(n, dtype=np.int64)
    brand = np.zeros(n, dtype=np.int64)
    price = np.zeros(n)
    for code, cat in enumerate(cats):
        subs, brands, median, sd = pools.CATALOGUE[cat]
        idx = np.flatnonzero(category == code)
        sub[idx] = rng.integers(0, len(subs), idx.size)
        brand[idx] = rng.integers(0, len(brands), idx.size)
        price[idx] = median * np.exp(rng.normal(0, sd, idx.size))
    # Prices end in .99 / .49 / .00 like real catalogues.
    ending = np.array([0.99, 0.49, 0.0])[rng.integers(0, 3, n)]
    list_cents = (np.maximum(np.floor(price), 1) + ending) * 100
    list_cents = np.round(list_cents).astype(np.int64)
    # The dearest electronics item is a flagship at 1,299.00 or more.
    top = np.flatnonzero(category == 0)[np.argmax(list_cents[category == 0])]
    list_cents[top] = max(list_cents[top], 129_900)
    cost_cents = np.round(list_cents * rng.uniform(0.40, 0.75, n)).astype(np.int64)
    rank = np.zeros(n)
    for code in range(len(cats)):
        idx = np.flatnonzero(category == code)
        rank[idx] = rng.permutation(idx.size) + 1
    popularity = 1.0 / rank**0.8
    adjective = rng.integers(0, len(pools.PRODUCT_ADJECTIVES), n)
    return pd.DataFrame(
        {
            "product_no": np.arange(1, n + 1),
            "category": category,
            "subcategory": sub,
            "brand": brand,
            "adjective": adjective,
            "list_cents": list_cents,
            "cost_cents": cost_cents,
            "popularity": popularity,
        }
    )


def plant_bundles(
    products: pd.DataFrame, rng: np.random.Generator, n_bundles: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Choose ``n_bundles`` (antecedent -> consequent) product pairs.

    Antecedents are popular products; consequents are otherwise-unpopular
    products (their popularity is cut tenfold) so that a basket rule
    A -> B has a high lift. Returns the bundles and the updated products.
    """
    products = products.copy()
    n_bundles = min(n_bundles, len(products) // 4)
    popular = products.sort_values("popularity", ascending=False, kind="stable")
    candidates = popular["product_no"].to_numpy()[: max(n_bundles * 3, 1)]
    antecedent = rng.choice(candidates, size=n_bundles, replace=False)
    rest = products.loc[~products["product_no"].isin(candidates)]
    rest = rest.sort_values("popularity", kind="stable")
    tail = rest["product_no"].to_numpy()[: max(n_bundles * 4, 1)]
    consequent = rng.choice(tail, size=n_bundles, replace=False)
    prob = np.round(rng.uniform(0.5, 0.7, n_bundles), 2)
    is_consequent = products["product_no"].isin(consequent).to_numpy()
    popularity = products["popularity"].to_numpy().copy()
    popularity[is_consequent] *= 0.1
    products["popularity"] = popularity
    bundles = pd.DataFrame(
        {
            "antecedent_no": antecedent,
            "consequent_no": consequent,
            "p_consequent_given_antecedent": prob,
        }
    )
    return bundles, products


#: Collections (product lines) per category, and so styles.
N_STYLES = 5


def plant_collections(
    products: pd.DataFrame, rng: np.random.Generator, n_styles: int = N_STYLES
) -> pd.DataFrame:
    """Split each category's products into ``n_styles`` collections.

    A collection is a small group of related products of one category (a
    brand's range, a kitchen set, a book series). Collections come in
    styles that run across categories (say classic, outdoor, minimalist,
    playful): collection ``s`` of every category is of style ``s``. Each
    category's products, in random order, are dealt round-robin into its
    collections. Persons have one or two favourite styles and buy much of
    every category from those styles' collections
    (:func:`behaviour.favourite_styles`): the co-purchase structure a
    recommender can learn, within a category and across categories.
    Returns the products with ``style`` and ``collection`` (category x
    ``n_styles`` + style).
    """
    products = products.copy()
    category = products["category"].to_numpy()
    style = np.zeros(len(products), dtype=np.int64)
    for code in np.unique(category):
        idx = rng.permutation(np.flatnonzero(category == code))
        style[idx] = np.arange(idx.size) % n_styles
    products["style"] = style
    products["collection"] = category * n_styles + style
    return products
