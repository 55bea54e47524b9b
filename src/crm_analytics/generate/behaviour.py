"""Behaviour: tickets, churn, orders and lines, surveys, web and email events,
order reviews.

Everything is vectorised over persons, orders and lines; the only Python
loops run over small fixed sets (personas, categories, ticket ranks, months).
Inputs are the frames from :mod:`people` and :mod:`identity`; outputs are
numeric frames (codes, epoch seconds, cents) that :mod:`tables` renders.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_analytics.generate import people, pools
from crm_analytics.generate.people import DAY, YEAR, Window

ORDER_STATUSES: tuple[str, ...] = ("completed", "cancelled", "returned")
CHANNELS: tuple[str, ...] = ("web", "app", "store", "phone")
WEB_EVENT_TYPES: tuple[str, ...] = (
    "session_start",
    "product_view",
    "add_to_cart",
    "checkout",
)
EMAIL_EVENT_TYPES: tuple[str, ...] = ("sent", "opened", "clicked", "unsubscribed")
#: Scales every persona's order rate; calibrated so that the mean is about
#: ten orders per person over the default 2.5-year window.
ORDER_RATE_SCALE = 1.08
#: Free shipping from this subtotal (cents); otherwise a flat fee.
FREE_SHIPPING_CENTS = 5_000
SHIPPING_FEE_CENTS = 495
#: Chance that an order gets a review, by status (completed, cancelled,
#: returned): unhappy buyers review more.
REVIEW_RATE: tuple[float, ...] = (0.35, 0.10, 0.55)
#: Shift of the latent review score by order status.
REVIEW_STATUS_SHIFT: tuple[float, ...] = (0.0, -0.8, -1.6)
#: Share of reviews that are of one product of the order (else of the order).
PRODUCT_REVIEW_SHARE = 0.4


def _param(name: str) -> np.ndarray:
    """A persona parameter as an array indexed by persona code."""
    return np.array([pools.PERSONA_PARAMS[p][name] for p in pools.PERSONAS])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def owner_record(
    person: np.ndarray,
    at: np.ndarray,
    records: pd.DataFrame,
    rng: np.random.Generator,
) -> np.ndarray:
    """Pick the record number (contact or account) an activity belongs to.

    Activities go to the person's primary record; once a person's second
    record exists, half of their later activities use it instead.
    """
    primary = records.loc[~records["is_second"]].set_index("person_idx")
    second = records.loc[records["is_second"]].set_index("person_idx")
    n_persons = int(records["person_idx"].max()) + 1 if len(records) else 0
    prim_no = np.full(n_persons, -1, dtype=np.int64)
    prim_no[primary.index.to_numpy()] = primary["record_no"].to_numpy()
    sec_no = np.full(n_persons, -1, dtype=np.int64)
    sec_at = np.full(n_persons, np.iinfo(np.int64).max, dtype=np.int64)
    sec_no[second.index.to_numpy()] = second["record_no"].to_numpy()
    sec_at[second.index.to_numpy()] = second["created_at"].to_numpy()
    use_second = (at >= sec_at[person]) & (rng.random(person.size) < 0.5)
    return np.where(use_second, sec_no[person], prim_no[person])


def simulate_tickets(
    persons: pd.DataFrame,
    contacts: pd.DataFrame,
    window: Window,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Support tickets of CRM persons; low satisfaction means more tickets.

    A ticket stays unresolved more often when satisfaction is low, and CSAT
    (given for ~60% of resolved tickets) follows satisfaction.
    """
    crm = contacts.loc[~contacts["is_second"]]
    person = crm["person_idx"].to_numpy()
    sat = persons["satisfaction"].to_numpy()[person]
    t0 = np.maximum(crm["created_at"].to_numpy(), window.start)
    span = np.maximum(window.end - t0, 0)
    rate = 0.35 * np.exp(-0.6 * sat)
    count = rng.poisson(rate * span / YEAR)
    who = np.repeat(np.arange(person.size), count)
    p_idx = person[who]
    opened = (t0[who] + rng.random(who.size) * span[who]).astype(np.int64)
    s = sat[who]
    unresolved = rng.random(who.size) < _sigmoid(-2.3 - 0.9 * s)
    hours = rng.lognormal(np.log(20), 1.0, who.size)
    resolved = opened + (hours * 3600).astype(np.int64)
    unresolved |= resolved >= window.end
    csat = np.clip(np.rint(3.4 + 0.9 * s + rng.normal(0, 0.8, who.size)), 1, 5)
    has_csat = ~unresolved & (rng.random(who.size) < 0.6)
    tickets = pd.DataFrame(
        {
            "person_idx": p_idx,
            "opened_at": opened,
            "resolved_at": resolved,
            "is_unresolved": unresolved,
            "channel": rng.choice(4, who.size, p=[0.4, 0.25, 0.25, 0.1]),
            "category": rng.choice(5, who.size, p=[0.3, 0.15, 0.25, 0.2, 0.1]),
            "priority": rng.choice(4, who.size, p=[0.25, 0.5, 0.2, 0.05]),
            "csat": csat.astype(np.int64),
            "has_csat": has_csat,
        }
    )
    return tickets.sort_values(["opened_at", "person_idx"], kind="stable")


def simulate_churn(
    persons: pd.DataFrame,
    tickets: pd.DataFrame,
    window: Window,
    rng: np.random.Generator,
    max_tickets: int = 6,
) -> np.ndarray:
    """Draw each person's churn time from a piecewise-constant hazard.

    ``h(t) = h0[persona] * exp(-0.7 * satisfaction + 0.4 * n_unresolved(t))``
    per year, where ``n_unresolved(t)`` counts the never-resolved tickets
    opened before ``t``. The clock starts at signup (or the window start).
    Returns epoch seconds; values at or after ``window.end`` mean "not churned
    by the end of the window".
    """
    n = len(persons)
    t0 = np.maximum(persons["signup_at"].to_numpy(), window.start).astype(float)
    h0 = _param("churn")[persons["persona"].to_numpy()]
    rate0 = h0 * np.exp(-0.7 * persons["satisfaction"].to_numpy()) / YEAR
    open_times = np.full((n, max_tickets), np.inf)
    bad = tickets.loc[tickets["is_unresolved"], ["person_idx", "opened_at"]]
    bad = bad.sort_values(["person_idx", "opened_at"], kind="stable")
    if len(bad):
        p = bad["person_idx"].to_numpy()
        first = np.r_[0, np.flatnonzero(np.diff(p)) + 1]
        rank = np.arange(p.size) - np.repeat(first, np.diff(np.r_[first, p.size]))
        keep = rank < max_tickets
        open_times[p[keep], rank[keep]] = bad["opened_at"].to_numpy()[keep]
    open_times = np.maximum(open_times, t0[:, None])
    remaining = rng.exponential(1.0, n)
    churn = np.full(n, np.inf)
    start = t0.copy()
    done = np.zeros(n, dtype=bool)
    for k in range(max_tickets + 1):
        end = open_times[:, k] if k < max_tickets else np.full(n, np.inf)
        rate = rate0 * np.exp(0.4 * k)
        with np.errstate(invalid="ignore"):
            cost = rate * (end - start)
        hit = ~done & (remaining <= cost)
        churn[hit] = start[hit] + remaining[hit] / rate[hit]
        done |= hit
        remaining = np.where(done, remaining, remaining - cost)
        start = np.where(done, start, end)
    return np.minimum(churn, 4e9).astype(np.int64)


def _seasons(window: Window) -> np.ndarray:
    """Epoch seconds of every 1 November whose Nov-Dec lies in the window."""
    years = range(
        pd.Timestamp(window.start, unit="s").year,
        pd.Timestamp(window.end, unit="s").year + 1,
    )
    starts = [pd.Timestamp(f"{y}-11-01").value // 10**9 for y in years]
    return np.array(
        [s for s in starts if s >= window.start and s + 61 * DAY <= window.end],
        dtype=np.int64,
    )


def simulate_orders(
    persons: pd.DataFrame,
    accounts: pd.DataFrame,
    churn_at: np.ndarray,
    window: Window,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Order headers of shop persons between signup and churn.

    Order counts are Poisson with a persona rate times a gamma frailty;
    seasonal persons buy mostly in Nov-Dec; burst buyers add a few dozen
    orders within three days. Status, channel and discount flags are drawn
    here; money is filled in by :func:`simulate_lines`.
    """
    shop = accounts.loc[~accounts["is_second"]]
    person = shop["person_idx"].to_numpy()
    persona = persons["persona"].to_numpy()[person]
    sat = persons["satisfaction"].to_numpy()[person]
    a0 = np.maximum(shop["created_at"].to_numpy() + 3600, window.start)
    a1 = np.minimum(churn_at[person], window.end - 1)
    span = np.maximum(a1 - a0, 0)
    rate = _param("rate")[persona] * ORDER_RATE_SCALE * np.exp(0.15 * sat)
    rate = rate * rng.gamma(2.0, 0.5, person.size)
    count = rng.poisson(rate * span / YEAR)
    who = np.repeat(np.arange(person.size), count)
    at = a0[who] + (rng.random(who.size) * span[who]).astype(np.int64)

    seasons = _seasons(window)
    seasonal = persons["is_seasonal"].to_numpy()[person]
    if seasons.size:
        move = seasonal[who] & (rng.random(who.size) < 0.8)
        cand = seasons[rng.integers(0, seasons.size, who.size)]
        cand = cand + (rng.random(who.size) * 61 * DAY).astype(np.int64)
        ok = move & (cand >= a0[who]) & (cand <= a1[who])
        at = np.where(ok, cand, at)

    anomaly = persons["anomaly"].to_numpy()[person]
    burst = np.flatnonzero((anomaly == 3) & (span > 4 * DAY))
    n_burst = rng.integers(15, 41, burst.size)
    b_start = a0[burst] + (rng.random(burst.size) * (span[burst] - 3 * DAY))
    b_who = np.repeat(burst, n_burst)
    b_at = np.repeat(b_start.astype(np.int64), n_burst)
    b_at = b_at + (rng.random(b_who.size) * 3 * DAY).astype(np.int64)
    who = np.concatenate([who, b_who])
    at = np.concatenate([at, b_at])

    order = np.lexsort((who, at))
    who, at = who[order], at[order]
    p_idx = person[who]
    persona_o = persona[who]
    n = who.size
    account_no = owner_record(p_idx, at, accounts, rng)

    returned_p = np.where(anomaly[who] == 2, 0.7, 0.045 + 0.02 * (sat[who] < -1))
    u = rng.random(n)
    status = np.where(u < returned_p, 2, np.where(u < returned_p + 0.04, 1, 0))
    channel_p = np.array([pools.PERSONA_PARAMS[p]["channel"] for p in pools.PERSONAS])
    cum = channel_p.cumsum(axis=1)[persona_o]
    channel = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 3)
    discounted = rng.random(n) < _param("discount")[persona_o]
    delay = np.select(
        [status == 0, status == 1],
        [rng.uniform(3600, 72 * 3600, n), rng.uniform(600, 24 * 3600, n)],
        rng.uniform(5 * DAY, 30 * DAY, n),
    )
    updated = np.minimum(at + delay.astype(np.int64), window.end - 1)
    return pd.DataFrame(
        {
            "order_no": np.arange(1, n + 1, dtype=np.int64),
            "person_idx": p_idx,
            "account_no": account_no,
            "ordered_at": at,
            "updated_at": np.maximum(updated, at),
            "status": status.astype(np.int8),
            "channel": channel.astype(np.int8),
            "is_discounted": discounted,
        }
    )


#: Chance that a person has a second favourite style.
SECOND_STYLE_P = 0.3
#: Chance that an item is drawn from the collection of one of the person's
#: favourite styles in its category (else from the whole category).
COLLECTION_SHARE = 0.8


def _choice_cdfs(products: pd.DataFrame, group: np.ndarray) -> np.ndarray:
    """Cumulative product-choice weights per (persona, group): within a group
    (a category or a collection), popular products (and, for big spenders,
    expensive ones relative to the category's median price) weigh more."""
    bias = _param("price")
    cat = products["category"].to_numpy()
    price = products["list_cents"].to_numpy().astype(float)
    pop = products["popularity"].to_numpy()
    median = np.array([np.median(price[cat == c]) for c in range(cat.max() + 1)])
    rel = price / median[cat]
    n_groups = int(group.max()) + 1
    cdfs = np.zeros((len(bias), n_groups, len(products)))
    for g in range(n_groups):
        in_group = group == g
        for p, b in enumerate(bias):
            w = np.where(in_group, pop * rel**b, 0.0)
            cdfs[p, g] = np.cumsum(w) / w.sum()
    return cdfs


def _category_cdfs(products: pd.DataFrame) -> np.ndarray:
    """Cumulative product-choice weights per (persona, category)."""
    return _choice_cdfs(products, products["category"].to_numpy())


def _item_collections(
    category: np.ndarray,
    styles: np.ndarray,
    n_styles: int,
    rng: np.random.Generator,
    share: float,
) -> np.ndarray:
    """Per item, the collection it is drawn from, or -1: with probability
    ``share`` the collection of its category in one of the person's
    favourite ``styles`` (items x 2, -1 = none; one of two at random)."""
    n = category.size
    second = (styles[:, 1] >= 0) & (rng.random(n) < 0.5)
    style = np.where(second, styles[:, 1], styles[:, 0])
    use = (style >= 0) & (rng.random(n) < share)
    return np.where(use, category * n_styles + style, -1)


def sample_products(
    persona: np.ndarray,
    favourite: np.ndarray,
    products: pd.DataFrame,
    rng: np.random.Generator,
    styles: np.ndarray | None = None,
    share: float | None = None,
) -> np.ndarray:
    """Draw a product index per item from the persona's category mix.

    With probability 0.3 the item comes from the person's favourite category;
    within a category, popular products (and, for big spenders, expensive
    ones) are more likely. ``styles`` (items x 2, -1 = none) are the
    person's favourite styles (:func:`favourite_styles`): with probability
    ``share`` (:data:`COLLECTION_SHARE`) the item comes from the collection
    of one of them in its category, with the same weights restricted to
    it. The category of an item is drawn first either way, so the
    persona's category mix is unchanged by styles.
    """
    n = persona.size
    n_cat = len(pools.CATEGORIES)
    mix = np.array([pools.PERSONA_PARAMS[p]["mix"] for p in pools.PERSONAS])
    mix_cdf = mix.cumsum(axis=1) / mix.sum(axis=1, keepdims=True)
    u = rng.random(n)
    category = np.zeros(n, dtype=np.int64)
    for p in range(len(pools.PERSONAS)):
        idx = np.flatnonzero(persona == p)
        category[idx] = np.searchsorted(mix_cdf[p], u[idx], side="right")
    category = np.minimum(category, n_cat - 1)
    category = np.where(rng.random(n) < 0.3, favourite, category)
    group = category
    cdfs = _category_cdfs(products)
    if styles is not None:
        collection = products["collection"].to_numpy()
        n_styles = int(products["style"].max()) + 1
        chosen = _item_collections(
            category,
            styles,
            n_styles,
            rng,
            COLLECTION_SHARE if share is None else share,
        )
        group = np.where(chosen >= 0, n_cat + chosen, category)
        cdfs = np.concatenate([cdfs, _choice_cdfs(products, collection)], axis=1)
    n_groups = cdfs.shape[1]
    product = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    key = persona.astype(np.int64) * n_groups + group
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(cdfs.shape[0] * n_groups + 1))
    for k in range(bounds.size - 1):
        idx = order[bounds[k] : bounds[k + 1]]
        if idx.size:
            cdf = cdfs[k // n_groups, k % n_groups]
            product[idx] = np.searchsorted(cdf, u[idx], side="right")
    return np.minimum(product, len(products) - 1)


def favourite_categories(persons: pd.DataFrame, rng: np.random.Generator):
    """Each person's favourite category, drawn from their persona's mix."""
    mix = np.array([pools.PERSONA_PARAMS[p]["mix"] for p in pools.PERSONAS])
    cum = (mix.cumsum(axis=1) / mix.sum(axis=1, keepdims=True))[
        persons["persona"].to_numpy()
    ]
    fav = (rng.random(len(persons))[:, None] > cum).sum(axis=1)
    return np.minimum(fav, len(pools.CATEGORIES) - 1)


def favourite_styles(persons: pd.DataFrame, rng: np.random.Generator):
    """Each person's favourite styles (persons x 2, -1 = none): one drawn
    uniformly, and with probability :data:`SECOND_STYLE_P` a second,
    different one. The number of styles is :data:`people.N_STYLES`."""
    n = len(persons)
    k = people.N_STYLES
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k
    second = np.where(rng.random(n) < SECOND_STYLE_P, second, -1)
    return np.stack([first, second], axis=1)


def simulate_lines(
    orders: pd.DataFrame,
    persons: pd.DataFrame,
    favourite: np.ndarray,
    products: pd.DataFrame,
    bundles: pd.DataFrame,
    rng: np.random.Generator,
    styles: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Order lines, plus order money (discount and shipping) filled in.

    Lines per order are ``1 + Poisson(basket - 1)``, each product drawn by
    :func:`sample_products` (with the person's favourite ``styles``, when
    given); bundle consequents are
    added to orders holding their antecedent with the planted probability.
    Bulk resellers buy 50-500 units per line. Returns (lines, orders).
    """
    persona = persons["persona"].to_numpy()[orders["person_idx"].to_numpy()]
    n_lines = 1 + rng.poisson(_param("basket")[persona] - 1)
    o_idx = np.repeat(np.arange(len(orders)), n_lines)
    o_person = orders["person_idx"].to_numpy()[o_idx]
    product = sample_products(
        persona[o_idx],
        favourite[o_person],
        products,
        rng,
        None if styles is None else styles[o_person],
    )

    extra_o, extra_p = [], []
    for row in bundles.itertuples(index=False):  # ~10 planted rules
        holders = np.unique(o_idx[product == row.antecedent_no - 1])
        hit = holders[rng.random(holders.size) < row.p_consequent_given_antecedent]
        extra_o.append(hit)
        extra_p.append(np.full(hit.size, row.consequent_no - 1))
    o_idx = np.concatenate([o_idx, *extra_o])
    product = np.concatenate([product, *extra_p])
    order = np.argsort(o_idx, kind="stable")
    o_idx, product = o_idx[order], product[order]
    n = o_idx.size
    first = np.r_[0, np.flatnonzero(np.diff(o_idx)) + 1]
    sizes = np.diff(np.r_[first, n])
    line_number = np.arange(n) - np.repeat(first, sizes) + 1

    l_persona = persona[o_idx]
    cat = products["category"].to_numpy()[product]
    qty_mean = _param("qty")[l_persona] * np.where(cat == 4, 2.0, 1.0)
    quantity = 1 + rng.poisson(qty_mean)
    bulk = persons["anomaly"].to_numpy()[orders["person_idx"].to_numpy()] == 1
    is_bulk = bulk[o_idx]
    quantity = np.where(is_bulk, rng.integers(50, 501, n), quantity)
    price = products["list_cents"].to_numpy()[product]
    drift = rng.random(n) < 0.03
    price = np.where(drift, np.round(price * rng.uniform(0.85, 0.99, n)), price)
    price = price.astype(np.int64)
    promo_p = np.where(l_persona == 2, 0.3, 0.06)
    promo = rng.random(n) < promo_p
    gross = price * quantity
    line_discount = np.where(promo, np.round(gross * rng.uniform(0.1, 0.3, n)), 0)
    line_discount = line_discount.astype(np.int64)

    net = np.bincount(o_idx, weights=gross - line_discount, minlength=len(orders))
    orders = orders.copy()
    pct = rng.uniform(0.05, 0.2, len(orders))
    orders["discount_cents"] = np.where(
        orders["is_discounted"].to_numpy(), np.round(net * pct), 0
    ).astype(np.int64)
    store = orders["channel"].to_numpy() == 2
    free = (net >= FREE_SHIPPING_CENTS) | store
    orders["shipping_cents"] = np.where(free, 0, SHIPPING_FEE_CENTS).astype(np.int64)
    orders["net_cents"] = (
        net.astype(np.int64) - orders["discount_cents"] + orders["shipping_cents"]
    )
    lines = pd.DataFrame(
        {
            "order_idx": o_idx,
            "line_number": line_number,
            "product_idx": product,
            "quantity": quantity,
            "price_cents": price,
            "line_discount_cents": line_discount,
        }
    )
    return lines, orders


def simulate_surveys(
    persons: pd.DataFrame,
    contacts: pd.DataFrame,
    churn_at: np.ndarray,
    tickets: pd.DataFrame,
    window: Window,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Survey responses: ~30% of CRM contacts answer per year.

    NPS and the four satisfaction questions follow latent satisfaction; the
    service score also drops with unresolved tickets. Churned persons rarely
    answer after churning.
    """
    crm = contacts.loc[~contacts["is_second"]]
    person = crm["person_idx"].to_numpy()
    t0 = np.maximum(crm["created_at"].to_numpy(), window.start)
    year_starts = [
        pd.Timestamp(f"{y}-01-01").value // 10**9
        for y in range(
            pd.Timestamp(window.start, unit="s").year,
            pd.Timestamp(window.end, unit="s").year + 1,
        )
    ]
    who_parts, at_parts = [], []
    for i, ys in enumerate(year_starts):
        ye = year_starts[i + 1] if i + 1 < len(year_starts) else ys + int(YEAR)
        lo = np.maximum(t0, max(ys, window.start))
        hi = min(ye, window.end)
        span = np.maximum(hi - lo, 0)
        answer = rng.random(person.size) < 0.3 * span / YEAR
        idx = np.flatnonzero(answer)
        who_parts.append(idx)
        at_parts.append(lo[idx] + (rng.random(idx.size) * span[idx]).astype(np.int64))
    who = np.concatenate(who_parts)
    at = np.concatenate(at_parts)
    p_idx = person[who]
    after = at >= churn_at[p_idx]
    keep = ~after | (rng.random(who.size) < 0.2)
    p_idx, at = p_idx[keep], at[keep]
    n = p_idx.size
    sat = persons["satisfaction"].to_numpy()[p_idx]
    bad = tickets.loc[tickets["is_unresolved"]].groupby("person_idx").size()
    unresolved = np.zeros(len(persons))
    unresolved[bad.index.to_numpy()] = bad.to_numpy()
    nps = np.clip(np.rint(7.2 + 1.8 * sat + rng.normal(0, 1.2, n)), 0, 10)

    def score(shift: np.ndarray | float) -> np.ndarray:
        raw = 3.6 + 0.7 * sat + shift + rng.normal(0, 0.7, n)
        return np.clip(np.rint(raw), 1, 5).astype(np.int64)

    sentiment = np.where(nps <= 6, 0, np.where(nps <= 8, 1, 2))
    n_comments = np.array([len(c) for c in pools.COMMENTS])
    comment = (rng.random(n) * n_comments[sentiment]).astype(np.int64)
    surveys = pd.DataFrame(
        {
            "person_idx": p_idx,
            "responded_at": at,
            "nps": nps.astype(np.int64),
            "sat_product": score(0.0),
            "sat_delivery": score(-0.1),
            "sat_service": score(-0.5 * unresolved[p_idx]),
            "sat_value": score(
                np.where(persons["persona"].to_numpy()[p_idx] == 1, -0.3, 0.0)
            ),
            "sentiment": sentiment,
            "comment": comment,
            "has_comment": rng.random(n) < 0.55,
        }
    )
    surveys["contact_no"] = owner_record(p_idx, at, contacts, rng)
    return surveys.sort_values("responded_at", kind="stable").reset_index(drop=True)


def simulate_web_events(
    persons: pd.DataFrame,
    accounts: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    favourite: np.ndarray,
    products: pd.DataFrame,
    churn_at: np.ndarray,
    window: Window,
    rng: np.random.Generator,
    styles: np.ndarray | None = None,
) -> pd.DataFrame:
    """Web/app tracking events: checkout sessions and browsing sessions.

    Half of the web/app orders come with a four-event converting session
    (start, view, add to cart, checkout). Browsing sessions (one to three
    product views, sometimes an add to cart) add about a quarter session per
    order; 15% of them are anonymous. Churned persons rarely browse. Viewed
    products follow the person's tastes as their purchases do.
    """
    online = np.flatnonzero(
        (orders["channel"].to_numpy() <= 1) & (rng.random(len(orders)) < 0.5)
    )
    first_line = np.r_[0, np.flatnonzero(np.diff(lines["order_idx"].to_numpy())) + 1]
    first_product = lines["product_idx"].to_numpy()[first_line]
    c_at = orders["ordered_at"].to_numpy()[online]
    c_len = rng.integers(120, 1800, online.size)
    conv = {
        "session": np.repeat(np.arange(online.size), 4),
        "account_no": np.repeat(orders["account_no"].to_numpy()[online], 4),
        "event_type": np.tile(np.arange(4), online.size),
        "product_idx": np.repeat(first_product[online], 4),
        "occurred_at": np.repeat(c_at, 4)
        - np.repeat(c_len, 4) * np.tile([1.0, 0.8, 0.4, 0.0], online.size),
    }
    conv["product_idx"] = np.where(conv["event_type"] == 0, -1, conv["product_idx"])

    shop = accounts.loc[~accounts["is_second"]]
    person = shop["person_idx"].to_numpy()
    per_person = np.bincount(orders["person_idx"].to_numpy(), minlength=len(persons))
    a0 = np.maximum(shop["created_at"].to_numpy(), window.start)
    n_sessions = rng.poisson(0.25 * per_person[person] + 0.3)
    who = np.repeat(np.arange(person.size), n_sessions)
    p_idx = person[who]
    span = np.maximum(window.end - 1 - a0[who], 0)
    s_at = a0[who] + (rng.random(who.size) * span).astype(np.int64)
    alive = (s_at < churn_at[p_idx]) | (rng.random(who.size) < 0.1)
    who, p_idx, s_at = who[alive], p_idx[alive], s_at[alive]
    account_no = owner_record(p_idx, s_at, accounts, rng)
    account_no = np.where(rng.random(who.size) < 0.15, -1, account_no)
    n_views = rng.integers(1, 4, who.size)
    carts = rng.random(who.size) < 0.2
    n_events = 1 + n_views + carts
    sess = np.repeat(np.arange(who.size), n_events)
    first = np.r_[0, np.cumsum(n_events)[:-1]]
    pos = np.arange(sess.size) - np.repeat(first, n_events)
    etype = np.where(pos == 0, 0, np.where(pos <= np.repeat(n_views, n_events), 1, 2))
    persona = persons["persona"].to_numpy()[p_idx]
    prod = sample_products(
        persona[sess],
        favourite[p_idx][sess],
        products,
        rng,
        None if styles is None else styles[p_idx][sess],
    )
    browse = {
        "session": online.size + sess,
        "account_no": account_no[sess],
        "event_type": etype,
        "product_idx": np.where(etype == 0, -1, prod),
        "occurred_at": np.repeat(s_at, n_events)
        + pos * rng.integers(20, 240, sess.size),
    }
    events = pd.DataFrame({k: np.concatenate([conv[k], browse[k]]) for k in conv})
    at = events["occurred_at"].to_numpy().astype(np.int64)
    events["occurred_at"] = np.clip(at, window.start, window.end - 1)
    events = events.sort_values(["occurred_at", "session", "event_type"], kind="stable")
    events = events.reset_index(drop=True)
    # Session ids in order of first appearance.
    codes, _ = pd.factorize(events["session"])
    events["session_no"] = codes.astype(np.int64) + 1
    return events


def simulate_email_events(
    persons: pd.DataFrame,
    contacts: pd.DataFrame,
    churn_at: np.ndarray,
    window: Window,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Monthly campaigns to consenting CRM contacts, with opens and clicks.

    Each campaign goes to a random ~35% segment. Opens depend on persona and
    satisfaction and collapse after churn; clicks follow opens; a rare
    unsubscribe stops further mail to that contact. Returns the events and
    the campaign (id, name) list.
    """
    months = pd.date_range(
        pd.Timestamp(window.start, unit="s"),
        pd.Timestamp(window.end - 1, unit="s"),
        freq="MS",
    )
    campaigns = [
        (f"CMP{m.year}{m.month:02d}", f"{pools.CAMPAIGN_THEMES[m.month - 1]} {m.year}")
        for m in months
    ]
    send_at = np.array([m.value // 10**9 + 4 * DAY + 9 * 3600 for m in months])
    person = contacts["person_idx"].to_numpy()
    consent = persons["crm_consent"].to_numpy()[person]
    rec = np.flatnonzero(consent)
    created = contacts["created_at"].to_numpy()[rec]
    valid_month = send_at[None, :] > created[:, None]
    sent = valid_month & (rng.random((rec.size, send_at.size)) < 0.35)
    r_idx, m_idx = np.nonzero(sent)
    p_idx = person[rec[r_idx]]
    sat = persons["satisfaction"].to_numpy()[p_idx]
    unsub = rng.random(r_idx.size) < 0.004 * np.exp(-0.5 * sat)
    first_unsub = np.full(rec.size, send_at.size, dtype=np.int64)
    np.minimum.at(first_unsub, r_idx[unsub], m_idx[unsub])
    keep = m_idx <= first_unsub[r_idx]
    r_idx, m_idx, p_idx, sat, unsub = (
        a[keep] for a in (r_idx, m_idx, p_idx, sat, unsub)
    )
    n = r_idx.size
    at = send_at[m_idx] + rng.integers(0, 3 * 3600, n)
    persona_bias = np.array([0.4, -0.1, 0.3, -0.6, 0.1])[
        persons["persona"].to_numpy()[p_idx]
    ]
    p_open = _sigmoid(-1.1 + 0.5 * sat + persona_bias)
    p_open = np.where(at >= churn_at[p_idx], p_open * 0.15, p_open)
    opened = rng.random(n) < p_open
    clicked = opened & (rng.random(n) < 0.3)
    open_at = at + rng.integers(60, 3 * DAY, n)
    click_at = open_at + rng.integers(5, 600, n)
    unsub_at = np.where(opened, open_at + 30, at + rng.integers(600, 2 * DAY, n))
    parts = [
        (np.ones(n, bool), 0, at),
        (opened, 1, open_at),
        (clicked, 2, click_at),
        (unsub, 3, unsub_at),
    ]
    contact_no = contacts["record_no"].to_numpy()[rec[r_idx]]
    events = pd.DataFrame(
        {
            "contact_no": np.concatenate([contact_no[m] for m, _, _ in parts]),
            "campaign": np.concatenate([m_idx[m] for m, _, _ in parts]),
            "event_type": np.concatenate([np.full(m.sum(), t) for m, t, _ in parts]),
            "occurred_at": np.concatenate([t_at[m] for m, _, t_at in parts]),
        }
    )
    events["occurred_at"] = np.minimum(events["occurred_at"], window.end - 1)
    events = events.sort_values(
        ["occurred_at", "contact_no", "event_type"], kind="stable"
    )
    return events.reset_index(drop=True), campaigns


def simulate_reviews(
    persons: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    window: Window,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Order reviews: a share of orders (:data:`REVIEW_RATE` by status) get
    one, a few days after the order, if that is before the window ends.

    The score (1-5) is ``3.7 + 0.9 * satisfaction`` plus the status shift
    (:data:`REVIEW_STATUS_SHIFT`: returned and cancelled orders score
    lower) and noise, rounded and clipped: satisfied persons (and so the
    personas with a higher satisfaction) score higher. A share
    (:data:`PRODUCT_REVIEW_SHARE`) reviews one product of the order's lines
    instead of the whole order.
    """
    n = len(orders)
    status = orders["status"].to_numpy().astype(np.int64)
    reviewed = rng.random(n) < np.array(REVIEW_RATE)[status]
    delay = rng.lognormal(np.log(5 * DAY), 0.6, n).astype(np.int64)
    at = orders["ordered_at"].to_numpy() + delay
    idx = np.flatnonzero(reviewed & (at < window.end))
    person = orders["person_idx"].to_numpy()[idx]
    sat = persons["satisfaction"].to_numpy()[person]
    raw = (
        3.7
        + 0.9 * sat
        + np.array(REVIEW_STATUS_SHIFT)[status[idx]]
        + rng.normal(0, 0.8, idx.size)
    )
    score = np.clip(np.rint(raw), 1, 5).astype(np.int64)

    # Lines grouped by order: the first line and the count of each order.
    order_idx = lines["order_idx"].to_numpy()
    by_order = np.argsort(order_idx, kind="stable")
    count = np.bincount(order_idx, minlength=n)
    first = np.cumsum(count) - count
    k = count[idx]
    is_product = (rng.random(idx.size) < PRODUCT_REVIEW_SHARE) & (k > 0)
    pick = first[idx] + (rng.random(idx.size) * np.maximum(k, 1)).astype(np.int64)
    pick = np.minimum(pick, max(order_idx.size - 1, 0))
    product_idx = lines["product_idx"].to_numpy()
    product = np.where(
        is_product, product_idx[by_order][pick] if order_idx.size else -1, -1
    )

    sentiment = np.where(score <= 2, 0, np.where(score == 3, 1, 2))
    n_comments = np.array([len(c) for c in pools.COMMENTS])
    comment = (rng.random(idx.size) * n_comments[sentiment]).astype(np.int64)
    reviews = pd.DataFrame(
        {
            "order_no": orders["order_no"].to_numpy()[idx],
            "person_idx": person,
            "ordered_at": orders["ordered_at"].to_numpy()[idx],
            "reviewed_at": at[idx],
            "score": score,
            "product_idx": product.astype(np.int64),
            "sentiment": sentiment,
            "comment": comment,
            "has_comment": rng.random(idx.size) < 0.45,
        }
    )
    return reviews.sort_values("reviewed_at", kind="stable").reset_index(drop=True)
