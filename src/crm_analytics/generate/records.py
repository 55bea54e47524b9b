"""The CRM contacts and shop accounts: one person, two systems, many spellings.

:func:`plan_records` decides which records exist (primary and second records
per system); :func:`render_contacts` and :func:`render_accounts` turn them
into raw tables with the identity messiness (name, email, phone, date and
label variants) and the record-level defects (duplicates, conflicting
versions, missing keys) labelled for the truth files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crm_analytics.generate import formats as fmt
from crm_analytics.generate import pools
from crm_analytics.generate.messiness import RawTable
from crm_analytics.generate.people import DAY, Window

CRM_COLUMNS: tuple[str, ...] = (
    "contact_id", "first_name", "last_name", "email", "phone", "street_address",
    "city", "postal_code", "country", "birth_date", "gender", "income_band",
    "marketing_consent", "created_at", "updated_at",
)  # fmt: skip
SHOP_COLUMNS: tuple[str, ...] = (
    "account_id", "full_name", "email", "phone", "address_line", "city",
    "country", "birth_date", "gender", "newsletter_opt_in", "registered_at",
    "updated_at",
)  # fmt: skip

#: House phone style per system (see :func:`render_phones`).
CRM_PHONE_STYLE = 1
SHOP_PHONE_STYLE = 0
N_PHONE_STYLES = 7
GENDERS: tuple[str, ...] = ("female", "male", "other")
GENDER_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("F", "f", "FEMALE", "Female ", ""),
    ("M", "m", "MALE", "Male ", ""),
    ("x", "X", "diverse", ""),
)
INCOME_BANDS: tuple[str, ...] = ("low", "middle", "high")


def _take(arr: pa.Array, idx: np.ndarray) -> pa.Array:
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def plan_records(
    persons: pd.DataFrame, window: Window, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decide the CRM contacts and shop accounts that exist.

    Each person with a CRM (shop) presence gets a primary record created
    around signup; ~3% of CRM persons and ~2% of shop persons get a second
    record months later. Record numbers follow creation time.
    Returns (contacts, accounts), each with columns record_no, person_idx,
    created_at, updated_at, is_second.
    """

    def plan(present: np.ndarray, second_rate: float) -> pd.DataFrame:
        person = np.flatnonzero(present)
        signup = persons["signup_at"].to_numpy()[person]
        created = signup + rng.integers(0, 2 * DAY, person.size)
        created = np.minimum(created, window.end - DAY)
        second = rng.random(person.size) < second_rate
        s_created = created[second] + rng.integers(30 * DAY, 500 * DAY, second.sum())
        fits = s_created < window.end - DAY
        frame = pd.DataFrame(
            {
                "person_idx": np.concatenate([person, person[second][fits]]),
                "created_at": np.concatenate([created, s_created[fits]]),
                "is_second": np.r_[
                    np.zeros(person.size, bool), np.ones(fits.sum(), bool)
                ],
            }
        )
        frame = frame.sort_values(["created_at", "person_idx"], kind="stable")
        frame = frame.reset_index(drop=True)
        frame.insert(0, "record_no", np.arange(1, len(frame) + 1))
        c = frame["created_at"].to_numpy()
        frame["updated_at"] = c + (rng.random(len(frame)) * 0.9 * (window.end - c))
        frame["updated_at"] = frame["updated_at"].astype(np.int64)
        return frame

    contacts = plan(persons["has_crm"].to_numpy(), 0.03)
    accounts = plan(persons["has_shop"].to_numpy(), 0.02)
    return contacts, accounts


@dataclass(frozen=True)
class PersonText:
    """Canonical per-person strings (Arrow arrays indexed by person)."""

    first: pa.Array
    last: pa.Array
    first_stripped: pa.Array
    last_stripped: pa.Array
    email: pa.Array
    alt_email: pa.Array
    street: pa.Array
    city: pa.Array
    postal: pa.Array


def _postal_codes(pattern_idx: np.ndarray, seed: np.ndarray, patterns: list[str]):
    """Fill postal-code patterns (`9` digit, `A` letter) from integer seeds."""
    out = np.empty(seed.size, dtype=object)
    for p, pattern in enumerate(patterns):  # a few dozen city patterns
        idx = np.flatnonzero(pattern_idx == p)
        if idx.size == 0:
            continue
        chars = np.zeros((idx.size, len(pattern)), dtype=np.uint8)
        s = seed[idx].copy()
        for j, ch in enumerate(pattern):
            if ch == "9":
                chars[:, j] = ord("0") + s % 10
                s //= 10
            elif ch == "A":
                chars[:, j] = ord("A") + s % 26
                s //= 26
            else:
                chars[:, j] = ord(ch)
            s = s + seed[idx] * (j + 7) % 9973
        out[idx] = chars.view(f"S{len(pattern)}").ravel().astype(str)
    return pa.array(out, type=pa.string())


def person_text(persons: pd.DataFrame) -> PersonText:
    """Render the canonical names, emails and addresses of every person."""
    first_pool = list(pools.FIRST_NAMES_F + pools.FIRST_NAMES_M)
    last_pool = list(pools.LAST_NAMES)
    first_i = persons["first"].to_numpy()
    last_i = persons["last"].to_numpy()
    first = _take(pa.array(first_pool), first_i)
    last = _take(pa.array(last_pool), last_i)
    first_s = _take(pa.array([pools.strip_accents(x) for x in first_pool]), first_i)
    last_s = _take(pa.array([pools.strip_accents(x) for x in last_pool]), last_i)
    first_f = _take(pa.array([pools.ascii_fold(x) for x in first_pool]), first_i)
    last_f = _take(pa.array([pools.ascii_fold(x) for x in last_pool]), last_i)
    seps = fmt.labels((".", "", "_"), persons["email_sep"].to_numpy())
    number = pc.if_else(
        pa.array(persons["email_numbered"].to_numpy()),
        fmt.integers(persons["email_no"].to_numpy()),
        "",
    )
    local = fmt.join(first_f, seps, last_f, number)
    # Make local parts unique per domain with a '-k' suffix ('-' never occurs
    # in a base local part).
    domain_i = persons["domain"].to_numpy()
    key = pd.Series(fmt.join(local, "@", fmt.labels(pools.EMAIL_DOMAINS, domain_i)))
    rank = key.groupby(key.to_numpy(), sort=False).cumcount().to_numpy()
    suffix = pc.if_else(
        pa.array(rank > 0), fmt.join("-", fmt.integers(rank)), pa.scalar("")
    )
    email = fmt.join(local, suffix, "@", fmt.labels(pools.EMAIL_DOMAINS, domain_i))
    alt_domain = (domain_i + 1 + persons["email_no"].to_numpy() % 5) % len(
        pools.EMAIL_DOMAINS
    )
    alt_email = fmt.join(
        pc.utf8_slice_codeunits(first_f, 0, 1),
        last_f,
        ".",
        fmt.integers(persons["person_no"].to_numpy()),
        "@",
        fmt.labels(pools.EMAIL_DOMAINS, alt_domain),
    )

    country = persons["country"].to_numpy()
    iso = pools.COUNTRIES
    street_pool = [s for c in iso for s in pools.STREETS[c]]
    street_off = np.cumsum([0] + [len(pools.STREETS[c]) for c in iso])[:-1]
    city_pool = [c for k in iso for c in pools.CITIES[k]]
    city_off = np.cumsum([0] + [len(pools.CITIES[c]) for c in iso])[:-1]
    s_idx = street_off[country] + persons["street"].to_numpy()
    pre = pa.array([s.split("{n}")[0] for s in street_pool])
    post = pa.array([s.split("{n}")[1] for s in street_pool])
    street = fmt.join(
        _take(pre, s_idx),
        fmt.integers(persons["house_no"].to_numpy()),
        _take(post, s_idx),
    )
    c_idx = city_off[country] + persons["city"].to_numpy()
    city = _take(pa.array([c for c, _ in city_pool]), c_idx)
    postal = _postal_codes(
        c_idx, persons["postal_seed"].to_numpy(), [p for _, p in city_pool]
    )
    return PersonText(
        first, last, first_s, last_s, email, alt_email, street, city, postal
    )


def render_phones(persons: pd.DataFrame, person_idx: np.ndarray, style: np.ndarray):
    """Render each record's phone in a style code 0-6.

    0 ``+442079460958``, 1 ``+44 20 7946 0958``, 2 ``0044 20 7946 0958``,
    3 ``(020) 7946-0958``, 4 ``020-7946-0958``, 5 ``020 7946 0958``
    (US: ``415.555.0134``), 6 US ``1-415-555-0134`` (others as style 1).
    Spanish and US numbers have no trunk prefix.
    """
    iso = pools.COUNTRIES
    country = persons["country"].to_numpy()[person_idx]
    plans = [pools.PHONE_PLANS[c] for c in iso]
    cc = fmt.labels([p["cc"] for p in plans], country)
    trunk = fmt.labels([p["trunk"] for p in plans], country)
    area_pool = [a for p in plans for a in p["areas"]]
    area_off = np.cumsum([0] + [len(p["areas"]) for p in plans])[:-1]
    area = fmt.labels(
        area_pool, area_off[country] + persons["area"].to_numpy()[person_idx]
    )
    first_group = np.array([p["groups"][0] for p in plans])[country]
    sub_a = persons["sub_a"].to_numpy()[person_idx]
    sub_b = persons["sub_b"].to_numpy()[person_idx]
    a_val = np.where(first_group == 4, sub_a * 10 + sub_b // 1000, sub_a)
    a = fmt.integers(a_val)
    b = fmt.digits(sub_b, 4)
    us = country == iso.index("US")
    spaced = fmt.join("+", cc, " ", area, " ", a, " ", b)
    styles = [
        fmt.join("+", cc, area, a, b),
        spaced,
        fmt.join("00", cc, " ", area, " ", a, " ", b),
        fmt.join("(", trunk, area, ") ", a, "-", b),
        fmt.join(trunk, area, "-", a, "-", b),
        pc.if_else(
            pa.array(us),
            fmt.join(area, ".", a, ".", b),
            fmt.join(trunk, area, " ", a, " ", b),
        ),
        pc.if_else(pa.array(us), fmt.join("1-", area, "-", a, "-", b), spaced),
    ]
    return pc.choose(pa.array(np.asarray(style, dtype=np.int8)), *styles)


def _variant_style(rng, n: int, rate: float, house: int, n_styles: int):
    """Style per record: the house style, or another one with ``rate``."""
    other = rng.integers(1, n_styles, n)
    return np.where(rng.random(n) < rate, (house + other) % n_styles, house)


def _email_variants(email: pa.Array, style: np.ndarray) -> pa.Array:
    """Case/whitespace variants: 0 as is, 1 upper, 2 capitalised, 3 padded,
    4 capitalised with a trailing space."""
    cap = pc.utf8_capitalize(email)
    return pc.choose(
        pa.array(style.astype(np.int8)),
        email,
        pc.utf8_upper(email),
        cap,
        fmt.join("  ", email, " "),
        fmt.join(cap, " "),
    )


def _placeholders(rng, n: int, rate: float) -> tuple[np.ndarray, pa.Array]:
    """Rows getting a placeholder email, and the placeholder text."""
    mask = rng.random(n) < rate
    text = fmt.labels(pools.PLACEHOLDER_EMAILS, rng.integers(0, 4, n))
    return mask, pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _choice_labels(rng, options: tuple[tuple[str, ...], ...], codes: np.ndarray):
    """For each code pick one of its option strings at random."""
    flat = [o for opts in options for o in opts]
    off = np.cumsum([0] + [len(o) for o in options])[:-1]
    size = np.array([len(o) for o in options])[codes]
    pick = off[codes] + (rng.random(codes.size) * size).astype(np.int64)
    out = fmt.labels(flat, pick)
    return pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)


def _apply(base: pa.Array, mask: np.ndarray, variant: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), variant, base)


def _common_fields(
    persons: pd.DataFrame,
    person_idx: np.ndarray,
    rng: np.random.Generator,
    birth_rate: float,
    consent_col: str,
):
    """Country, birth date, gender and consent columns with their variants.

    Returns (columns, flags) where flags maps a cosmetic kind to a mask.
    """
    n = person_idx.size
    country = persons["country"].to_numpy()[person_idx]
    flags: dict[str, np.ndarray] = {}
    cvar = rng.random(n) < 0.02
    variants = tuple(pools.COUNTRY_VARIANTS[c] for c in pools.COUNTRIES)
    country_txt = _apply(
        fmt.labels(pools.COUNTRIES, country),
        cvar,
        _choice_labels(rng, variants, country),
    )
    flags["country_variant"] = cvar

    days = persons["birth_days"].to_numpy()[person_idx]
    has_birth = rng.random(n) < birth_rate
    birth = fmt.dates(days, valid=has_birth)
    dvar = has_birth & (rng.random(n) < 0.02)
    dstyle = rng.integers(0, len(fmt.DATE_STYLES), n)
    for s, style in enumerate(fmt.DATE_STYLES):
        idx = np.flatnonzero(dvar & (dstyle == s))
        if idx.size:
            mask = np.zeros(n, bool)
            mask[idx] = True
            birth = pc.replace_with_mask(
                birth, pa.array(mask), fmt.dates_styled(days[idx], style)
            )
    flags["date_format"] = dvar

    gender = persons["gender"].to_numpy()[person_idx]
    gvar = rng.random(n) < 0.03
    gender_txt = _apply(
        fmt.labels(GENDERS, gender), gvar, _choice_labels(rng, GENDER_VARIANTS, gender)
    )
    flags["gender_variant"] = gvar

    consent = persons[consent_col].to_numpy()[person_idx].astype(np.int64)
    bvar = rng.random(n) < 0.03
    bool_variants = (("no", "N", "0", "FALSE", "n"), ("yes", "Y", "1", "True", "y"))
    consent_txt = _apply(
        fmt.labels(("false", "true"), consent),
        bvar,
        _choice_labels(rng, bool_variants, consent),
    )
    flags["boolean_variant"] = bvar
    return country_txt, birth, gender_txt, consent_txt, flags


def _timestamp_variants(
    created: np.ndarray, updated: np.ndarray, rng: np.random.Generator, rate: float
):
    """Render created/updated timestamps; ``rate`` of rows get one odd format."""
    n = created.size
    created_txt = fmt.timestamps(created)
    updated_txt = fmt.timestamps(updated)
    var = rng.random(n) < rate
    on_created = rng.random(n) < 0.5
    style = rng.integers(0, len(fmt.TIMESTAMP_STYLES), n)
    for s, st in enumerate(fmt.TIMESTAMP_STYLES):
        for target in (True, False):
            m = var & (style == s) & (on_created == target)
            if not m.any():
                continue
            src = created if target else updated
            alt = fmt.timestamps_styled(src[m], st)
            if target:
                created_txt = pc.replace_with_mask(created_txt, pa.array(m), alt)
            else:
                updated_txt = pc.replace_with_mask(updated_txt, pa.array(m), alt)
    return created_txt, updated_txt, var


def _unicode_mask(*columns: pa.Array) -> np.ndarray:
    """Rows where any column holds a non-ASCII letter or an apostrophe."""
    mask = np.zeros(len(columns[0]), dtype=bool)
    for col in columns:
        hit = pc.match_substring_regex(col, "[^\\x00-\\x7f]|'")
        mask |= hit.fill_null(False).to_numpy(zero_copy_only=False)
    return mask


def render_contacts(
    persons: pd.DataFrame,
    text: PersonText,
    contacts: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[RawTable, int]:
    """The raw ``crm_contacts`` table with variants and defects labelled.

    Returns the table and the contact-id width.
    """
    width = fmt.id_width(len(contacts))
    p = contacts["person_idx"].to_numpy()
    second = contacts["is_second"].to_numpy()
    n = p.size
    first = _take(text.first, p)
    last = _take(text.last, p)
    nvar = rng.random(n) < 0.04
    nstyle = rng.integers(0, 4, n)
    first_v = pc.choose(
        pa.array(nstyle.astype(np.int8)),
        pc.utf8_lower(first),
        first,
        fmt.join(" ", first),
        _take(text.first_stripped, p),
    )
    last_v = pc.choose(
        pa.array(nstyle.astype(np.int8)),
        pc.utf8_lower(last),
        pc.utf8_upper(last),
        fmt.join(last, "  "),
        _take(text.last_stripped, p),
    )
    first_txt = _apply(first, nvar, first_v)
    last_txt = _apply(last, nvar, last_v)
    name_var = pc.not_equal(first_txt, first).to_numpy(
        zero_copy_only=False
    ) | pc.not_equal(last_txt, last).to_numpy(zero_copy_only=False)

    email = _take(text.email, p)
    estyle = np.where(rng.random(n) < 0.04, rng.integers(1, 5, n), 0)
    # A second contact differs from the first by email case or phone format.
    second_by_email = second & (rng.random(n) < 0.5)
    estyle = np.where(second_by_email, rng.integers(1, 5, n), estyle)
    email_txt = _email_variants(email, estyle)
    ph_mask, ph_text = _placeholders(rng, n, 0.01)
    ph_mask &= estyle == 0
    email_txt = _apply(email_txt, ph_mask, ph_text)

    pstyle = _variant_style(rng, n, 0.08, CRM_PHONE_STYLE, N_PHONE_STYLES)
    pstyle = np.where(
        second & ~second_by_email,
        (CRM_PHONE_STYLE + rng.integers(1, N_PHONE_STYLES, n)) % N_PHONE_STYLES,
        pstyle,
    )
    has_phone = rng.random(n) < 0.98
    phone = pc.if_else(
        pa.array(has_phone),
        render_phones(persons, p, pstyle),
        pa.scalar(None, pa.string()),
    )
    country, birth, gender, consent, flags = _common_fields(
        persons, p, rng, 0.95, "crm_consent"
    )
    income = fmt.labels(
        INCOME_BANDS, persons["income"].to_numpy()[p], valid=rng.random(n) < 0.92
    )
    created, updated, ts_var = _timestamp_variants(
        contacts["created_at"].to_numpy(), contacts["updated_at"].to_numpy(), rng, 0.015
    )
    columns = {
        "contact_id": fmt.ids("C", contacts["record_no"].to_numpy(), width),
        "first_name": first_txt,
        "last_name": last_txt,
        "email": email_txt,
        "phone": phone,
        "street_address": _take(text.street, p),
        "city": _take(text.city, p),
        "postal_code": _take(text.postal, p),
        "country": country,
        "birth_date": birth,
        "gender": gender,
        "income_band": income,
        "marketing_consent": consent,
        "created_at": created,
        "updated_at": updated,
    }
    table = RawTable("crm_contacts", {c: columns[c] for c in CRM_COLUMNS})
    flags.update(
        {
            "name_variant": name_var,
            "unicode_name": _unicode_mask(first_txt, last_txt),
            "email_variant": estyle > 0,
            "placeholder_email": ph_mask,
            "phone_format": has_phone & (pstyle != CRM_PHONE_STYLE),
            "timestamp_format": ts_var,
        }
    )
    for kind, mask in flags.items():
        table.mark(np.flatnonzero(mask), kind)

    # Conflicting versions: an older export of the contact, before a move or
    # a phone change. The newer row (the original) is the truth.
    src = table.pick(rng, 0.006)
    if src.size:
        old = table.append_copies(
            src, "conflicting_duplicate", src + rng.choice([-0.5, 0.5], src.size)
        )
        c_at = contacts["created_at"].to_numpy()[src]
        u_at = contacts["updated_at"].to_numpy()[src]
        old_at = c_at + ((u_at - c_at) * rng.uniform(0.05, 0.9, src.size)).astype(
            np.int64
        )
        table.set("updated_at", old, fmt.timestamps(np.minimum(old_at, u_at - 60)))
        moved = rng.random(src.size) < 0.5
        shifted = persons.iloc[p[src]].copy()
        shifted["city"] = (shifted["city"] + 1) % np.array(
            [len(pools.CITIES[c]) for c in pools.COUNTRIES]
        )[shifted["country"].to_numpy()]
        shifted["street"] = (shifted["street"] + 1) % np.array(
            [len(pools.STREETS[c]) for c in pools.COUNTRIES]
        )[shifted["country"].to_numpy()]
        shifted["sub_b"] = (
            shifted["sub_b"] + 1 + rng.integers(0, 9000, src.size)
        ) % 10_000
        old_text = person_text(shifted)
        m = np.flatnonzero(moved)
        table.set("street_address", old[m], _take(old_text.street, m))
        table.set("city", old[m], _take(old_text.city, m))
        table.set("postal_code", old[m], _take(old_text.postal, m))
        k = np.flatnonzero(~moved)
        old_phones = render_phones(shifted, np.arange(src.size), np.full(src.size, 1))
        table.set("phone", old[k], _take(old_phones, k))

    _exact_duplicates(table, rng, 0.01)
    _blank_key_copies(table, rng, "contact_id", 0.003)
    table.finalise()
    return table, width


def _exact_duplicates(table: RawTable, rng: np.random.Generator, rate: float):
    """Append verbatim copies a few rows after their source rows."""
    src = table.pick(rng, rate)
    if src.size:
        table.append_copies(
            src, "exact_duplicate", src + rng.integers(0, 20, src.size) + 0.6
        )


def _blank_key_copies(table: RawTable, rng: np.random.Generator, key: str, rate: float):
    """Append copies of rows with the key emptied (quarantined, no cascade)."""
    src = table.pick(rng, rate)
    if src.size:
        new = table.append_copies(
            src,
            "missing_required_field",
            rng.random(src.size) * table.n_rows,
        )
        table.set(key, new, pa.nulls(src.size, pa.string()))


def render_accounts(
    persons: pd.DataFrame,
    text: PersonText,
    accounts: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[RawTable, int]:
    """The raw ``shop_accounts`` table with variants and defects labelled.

    Returns the table and the account-id width.
    """
    width = fmt.id_width(len(accounts))
    p = accounts["person_idx"].to_numpy()
    second = accounts["is_second"].to_numpy()
    n = p.size
    first = _take(text.first, p)
    last = _take(text.last, p)
    full = fmt.join(first, " ", last)
    nvar = rng.random(n) < 0.12
    nstyle = rng.integers(0, 5, n).astype(np.int8)
    variants = pc.choose(
        pa.array(nstyle),
        pc.utf8_lower(full),
        fmt.join(_take(text.first_stripped, p), " ", _take(text.last_stripped, p)),
        fmt.join(first, "  ", last),
        fmt.join(last, ", ", first),
        fmt.join(" ", pc.utf8_lower(first), " ", last, " "),
    )
    full_txt = _apply(full, nvar, variants)
    name_var = pc.not_equal(full_txt, full).to_numpy(zero_copy_only=False)

    email = _take(text.email, p)
    alt = rng.random(n) < 0.12
    # Second accounts: half reuse the email in another case, half use a new
    # email with the same phone and name.
    second_alt = second & (rng.random(n) < 0.5)
    alt = np.where(second, second_alt, alt)
    base = _apply(email, alt, _take(text.alt_email, p))
    base = _apply(
        base,
        second_alt,
        fmt.join("x", _take(text.alt_email, p)),
    )
    estyle = np.where(rng.random(n) < 0.08, rng.integers(1, 5, n), 0)
    estyle = np.where(second & ~second_alt, rng.integers(1, 5, n), estyle)
    email_txt = _email_variants(base, estyle)
    ph_mask, ph_text = _placeholders(rng, n, 0.01)
    ph_mask &= (estyle == 0) & ~second
    email_txt = _apply(email_txt, ph_mask, ph_text)

    pstyle = _variant_style(rng, n, 0.08, SHOP_PHONE_STYLE, N_PHONE_STYLES)
    has_phone = (rng.random(n) < 0.97) | second_alt
    phone = pc.if_else(
        pa.array(has_phone),
        render_phones(persons, p, pstyle),
        pa.scalar(None, pa.string()),
    )
    country, birth, gender, opt_in, flags = _common_fields(
        persons, p, rng, 0.6, "shop_opt_in"
    )
    registered, updated, ts_var = _timestamp_variants(
        accounts["created_at"].to_numpy(), accounts["updated_at"].to_numpy(), rng, 0.015
    )
    columns = {
        "account_id": fmt.ids("A", accounts["record_no"].to_numpy(), width),
        "full_name": full_txt,
        "email": email_txt,
        "phone": phone,
        "address_line": _take(text.street, p),
        "city": _take(text.city, p),
        "country": country,
        "birth_date": birth,
        "gender": gender,
        "newsletter_opt_in": opt_in,
        "registered_at": registered,
        "updated_at": updated,
    }
    table = RawTable("shop_accounts", {c: columns[c] for c in SHOP_COLUMNS})
    flags.update(
        {
            "name_variant": name_var,
            "unicode_name": _unicode_mask(full_txt),
            "email_variant": estyle > 0,
            "placeholder_email": ph_mask,
            "phone_format": has_phone & (pstyle != SHOP_PHONE_STYLE),
            "timestamp_format": ts_var,
        }
    )
    for kind, mask in flags.items():
        table.mark(np.flatnonzero(mask), kind)
    _blank_key_copies(table, rng, "account_id", 0.003)
    table.finalise()
    return table, width


def source_records(
    contacts: pd.DataFrame,
    accounts: pd.DataFrame,
    persons: pd.DataFrame,
    contact_width: int,
    account_width: int,
) -> pa.Table:
    """Truth: every contact/account id with the person it belongs to."""
    person_no = persons["person_no"].to_numpy()
    width = fmt.id_width(len(persons))
    parts = []
    for system, prefix, frame, w in (
        ("crm", "C", contacts, contact_width),
        ("shop", "A", accounts, account_width),
    ):
        parts.append(
            pa.table(
                {
                    "source_system": pa.array([system] * len(frame), pa.string()),
                    "source_id": fmt.ids(prefix, frame["record_no"].to_numpy(), w),
                    "person_id": fmt.ids(
                        "PER", person_no[frame["person_idx"].to_numpy()], width
                    ),
                }
            )
        )
    return pa.concat_tables(parts)
