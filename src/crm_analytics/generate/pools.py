"""Static reference pools for the demo-data generator.

Everything here is constant data (no randomness): name pools, countries with
their phone plans and address pools, the product catalogue skeleton, persona
parameters and survey comments. The simulation modules draw from these with a
seeded :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import unicodedata

# --------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "NL", "ES")
COUNTRY_WEIGHTS: tuple[float, ...] = (0.35, 0.20, 0.18, 0.12, 0.07, 0.08)

#: Calling code, trunk prefix, area codes, and subscriber group sizes.
PHONE_PLANS: dict[str, dict[str, object]] = {
    "US": {
        "cc": "1",
        "trunk": "",
        "areas": ("415", "212", "312", "617", "206", "512", "303", "404"),
        "groups": (3, 4),
    },
    "GB": {
        "cc": "44",
        "trunk": "0",
        "areas": ("20", "161", "121", "131", "117", "113"),
        "groups": (4, 4),
    },
    "DE": {
        "cc": "49",
        "trunk": "0",
        "areas": ("30", "40", "89", "69", "221", "711"),
        "groups": (4, 4),
    },
    "FR": {
        "cc": "33",
        "trunk": "0",
        "areas": ("1", "4", "5", "6", "7"),
        "groups": (4, 4),
    },
    "NL": {
        "cc": "31",
        "trunk": "0",
        "areas": ("20", "10", "70", "30", "40"),
        "groups": (3, 4),
    },
    "ES": {
        "cc": "34",
        "trunk": "",
        "areas": ("91", "93", "96", "95", "94"),
        "groups": (3, 4),
    },
}

#: (city, postal-code pattern) per country. In patterns `9` is a digit and
#: `A` an upper-case letter.
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("San Francisco", "94199"),
        ("New York", "10099"),
        ("Chicago", "60699"),
        ("Boston", "02199"),
        ("Seattle", "98199"),
        ("Austin", "78799"),
        ("Denver", "80299"),
        ("Atlanta", "30399"),
    ),
    "GB": (
        ("London", "SW9 9AA"),
        ("Manchester", "M9 9AA"),
        ("Birmingham", "B9 9AA"),
        ("Edinburgh", "EH9 9AA"),
        ("Bristol", "BS9 9AA"),
        ("Leeds", "LS9 9AA"),
    ),
    "DE": (
        ("Berlin", "10999"),
        ("Hamburg", "20999"),
        ("München", "80999"),
        ("Frankfurt am Main", "60999"),
        ("Köln", "50999"),
        ("Stuttgart", "70999"),
    ),
    "FR": (
        ("Paris", "75099"),
        ("Lyon", "69099"),
        ("Marseille", "13099"),
        ("Toulouse", "31099"),
        ("Nice", "06099"),
    ),
    "NL": (
        ("Amsterdam", "1099 AA"),
        ("Rotterdam", "3099 AA"),
        ("Den Haag", "2599 AA"),
        ("Utrecht", "3599 AA"),
        ("Eindhoven", "5699 AA"),
    ),
    "ES": (
        ("Madrid", "28099"),
        ("Barcelona", "08099"),
        ("Valencia", "46099"),
        ("Sevilla", "41099"),
        ("Bilbao", "48099"),
    ),
}

#: Street names per country; `{n}` is the house number.
STREETS: dict[str, tuple[str, ...]] = {
    "US": (
        "{n} Main St",
        "{n} Oak Avenue",
        "{n} Maple Dr",
        "{n} Cedar Lane",
        "{n} Washington Blvd",
        "{n} Lakeview Rd",
    ),
    "GB": (
        "{n} High Street",
        "{n} Station Road",
        "{n} Church Lane",
        "{n} Victoria Road",
        "{n} King's Road",
    ),
    "DE": (
        "Hauptstraße {n}",
        "Bahnhofstraße {n}",
        "Schillerstraße {n}",
        "Gartenweg {n}",
        "Lindenallee {n}",
    ),
    "FR": (
        "{n} rue de la Paix",
        "{n} avenue Victor Hugo",
        "{n} rue de l'Église",
        "{n} boulevard Voltaire",
    ),
    "NL": (
        "Kerkstraat {n}",
        "Dorpsstraat {n}",
        "Prinsengracht {n}",
        "Stationsweg {n}",
    ),
    "ES": (
        "Calle Mayor {n}",
        "Avenida de la Constitución {n}",
        "Calle del Sol {n}",
        "Plaza de España {n}",
    ),
}

#: Ways a country is spelled in the source systems besides its ISO code.
COUNTRY_VARIANTS: dict[str, tuple[str, ...]] = {
    "US": ("USA", "United States", "us", "U.S."),
    "GB": ("UK", "United Kingdom", "gb", "Great Britain"),
    "DE": ("Deutschland", "germany ", "Germany", "de"),
    "FR": ("France", "fr", "FRANCE"),
    "NL": ("Netherlands", "Holland", "nl"),
    "ES": ("Spain", "España", "es"),
}

# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

FIRST_NAMES_F: tuple[str, ...] = (
    "Emma", "Olivia", "Sophie", "Charlotte", "Mia", "Hannah", "Julia", "Laura",
    "Sarah", "Anna", "Emily", "Grace", "Lucy", "Isabella", "Chloe", "Amelia",
    "Jessica", "Megan", "Lisa", "Marie", "Claire", "Elena", "Lucía", "Carmen",
    "Zoë", "Chloé", "Léa", "Anaïs", "Renée", "Inês", "Núria", "Sinéad",
    "Małgorzata", "Agnieszka", "Fenna", "Sanne", "Lotte", "Ingrid", "Maja",
    "Jennifer", "Ashley", "Rachel", "Katherine", "Nicole", "Linh", "Mai",
)  # fmt: skip

FIRST_NAMES_M: tuple[str, ...] = (
    "James", "Oliver", "Jack", "Harry", "Thomas", "William", "Lukas", "Leon",
    "Paul", "Max", "Jonas", "Louis", "Hugo", "Lucas", "Daniel", "David",
    "Michael", "Robert", "John", "Peter", "Pablo", "Javier", "Alejandro",
    "José", "Łukasz", "Jürgen", "François", "Søren", "Andrés", "Jörg", "Noël",
    "Seán", "Björn", "Daan", "Sem", "Bram", "Matthew", "Christopher", "Ryan",
    "Kevin", "Brian", "Jean-Luc", "Minh", "Tuấn", "Mohammed", "Ali",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis",
    "Wilson", "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Jackson",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young",
    "King", "Wright", "Hill", "Green", "Baker", "Evans", "Hughes", "Roberts",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
    "Becker", "Schröder", "Hoffmann", "Koch", "Bauer", "Dubois", "Martin",
    "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
    "García", "Fernández", "González", "Rodríguez", "López", "Martínez",
    "Sánchez", "Pérez", "Núñez", "Jiménez", "de Jong", "Jansen", "de Vries",
    "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "O'Brien",
    "O'Connor", "D'Angelo", "Nguyễn", "Trần", "Lê", "Kowalski", "Wójcik",
    "Łukasiewicz", "Smith-Jones", "MacDonald", "McAllister", "Øvergaard",
)  # fmt: skip

EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
    "gmx.de", "web.de", "orange.fr", "free.fr", "ziggo.nl", "kpnmail.nl",
    "telefonica.es", "btinternet.com", "proton.me", "example.org",
)  # fmt: skip

PLACEHOLDER_EMAILS: tuple[str, ...] = ("n/a", "none", "test@test.com", "")

_SPECIAL_FOLD = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae"}
)


def strip_accents(text: str) -> str:
    """Remove combining marks (NFKD), as DuckDB's ``strip_accents`` does.

    Letters without a decomposition (``Ł``, ``ø``, ``ß``) are kept.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_fold(text: str) -> str:
    """Fold a name to plain ASCII letters for use in an email local part."""
    folded = strip_accents(text.translate(_SPECIAL_FOLD))
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


# --------------------------------------------------------------------------
# Personas
# --------------------------------------------------------------------------

PERSONAS: tuple[str, ...] = (
    "loyal_regular",
    "big_spender",
    "bargain_hunter",
    "occasional",
    "family_shopper",
)
PERSONA_WEIGHTS: tuple[float, ...] = (0.20, 0.10, 0.25, 0.30, 0.15)

CATEGORIES: tuple[str, ...] = (
    "electronics",
    "home",
    "fashion",
    "beauty",
    "grocery",
    "sports",
    "books",
    "toys",
)

#: Per-persona parameters. ``rate``: orders per active year; ``basket``: mean
#: lines per order; ``qty``: mean extra units per line; ``discount``: share of
#: orders with an order-level discount; ``channel``: web/app/store/phone
#: weights; ``mix``: category weights (same order as :data:`CATEGORIES`);
#: ``churn``: baseline yearly churn hazard; ``price``: bias towards expensive
#: products (0 = none).
PERSONA_PARAMS: dict[str, dict[str, object]] = {
    "loyal_regular": {
        "rate": 11.0,
        "basket": 2.2,
        "qty": 0.3,
        "discount": 0.15,
        "channel": (0.45, 0.40, 0.10, 0.05),
        "mix": (0.10, 0.16, 0.16, 0.14, 0.16, 0.10, 0.10, 0.08),
        "churn": 0.07,
        "price": 0.0,
    },
    "big_spender": {
        "rate": 3.5,
        "basket": 1.8,
        "qty": 0.1,
        "discount": 0.05,
        "channel": (0.55, 0.20, 0.20, 0.05),
        "mix": (0.45, 0.15, 0.15, 0.06, 0.02, 0.10, 0.03, 0.04),
        "churn": 0.12,
        "price": 1.5,
    },
    "bargain_hunter": {
        "rate": 7.5,
        "basket": 2.4,
        "qty": 0.4,
        "discount": 0.75,
        "channel": (0.50, 0.40, 0.08, 0.02),
        "mix": (0.06, 0.14, 0.22, 0.16, 0.18, 0.08, 0.08, 0.08),
        "churn": 0.18,
        "price": -1.0,
    },
    "occasional": {
        "rate": 2.0,
        "basket": 1.6,
        "qty": 0.2,
        "discount": 0.20,
        "channel": (0.40, 0.15, 0.35, 0.10),
        "mix": (0.14, 0.13, 0.16, 0.12, 0.10, 0.12, 0.13, 0.10),
        "churn": 0.25,
        "price": 0.0,
    },
    "family_shopper": {
        "rate": 10.0,
        "basket": 3.0,
        "qty": 0.8,
        "discount": 0.25,
        "channel": (0.35, 0.40, 0.20, 0.05),
        "mix": (0.04, 0.24, 0.08, 0.06, 0.32, 0.06, 0.04, 0.16),
        "churn": 0.09,
        "price": 0.0,
    },
}

# --------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------

#: Category -> (subcategories, brands, median list price, log-sd, adjectives).
CATALOGUE: dict[str, tuple[tuple[str, ...], tuple[str, ...], float, float]] = {
    "electronics": (
        ("phones", "laptops", "audio", "cameras", "accessories"),
        ("Voltix", "Nordtek", "Sonara", "Pixelon"),
        180.0,
        0.9,
    ),
    "home": (
        ("kitchen", "furniture", "decor", "bedding", "cleaning"),
        ("Casa Viva", "Hjem", "Maison Claire", "HomeWorks"),
        45.0,
        0.8,
    ),
    "fashion": (
        ("shirts", "shoes", "jackets", "dresses", "accessories"),
        ("Urbano", "Fjord & Co", "Belle Rue", "Threadline"),
        50.0,
        0.6,
    ),
    "beauty": (
        ("skincare", "makeup", "fragrance", "haircare"),
        ("Lumière", "Glowa", "Pure Botanics"),
        22.0,
        0.6,
    ),
    "grocery": (
        ("coffee", "snacks", "pantry", "drinks", "organic"),
        ("Good Harvest", "Mama's Kitchen", "Bio Boer"),
        7.0,
        0.5,
    ),
    "sports": (
        ("running", "fitness", "cycling", "outdoor"),
        ("Stride", "Alpenwerk", "PeakForm"),
        55.0,
        0.8,
    ),
    "books": (
        ("fiction", "non-fiction", "children", "cookbooks"),
        ("Penrose Press", "Inkwell", "Libro"),
        16.0,
        0.4,
    ),
    "toys": (
        ("board games", "puzzles", "building sets", "plush"),
        ("Playmore", "Tiny Giants", "Spielwerk"),
        28.0,
        0.6,
    ),
}

PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Classic", "Pro", "Essential", "Deluxe", "Compact", "Eco", "Ultra",
    "Everyday", "Premium", "Mini", "Smart", "Vintage",
)  # fmt: skip

# --------------------------------------------------------------------------
# Support, surveys, email
# --------------------------------------------------------------------------

TICKET_CHANNELS: tuple[str, ...] = ("email", "phone", "chat", "web form")
TICKET_CATEGORIES: tuple[str, ...] = (
    "delivery",
    "billing",
    "product",
    "returns",
    "account",
)
TICKET_PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

#: Comments by sentiment: negative, neutral, positive. Some carry commas and
#: double quotes on purpose (they must survive CSV quoting); none has a
#: newline.
COMMENTS: tuple[tuple[str, ...], ...] = (
    (
        "Delivery was late, again.",
        'The "express" shipping took 9 days',
        "Support never answered my ticket",
        "Item arrived broken, very disappointed",
        "Too expensive for what you get",
        "Refund took weeks, not happy",
        "Website kept crashing at checkout",
    ),
    (
        "OK overall",
        "Fine, nothing special",
        "Good products, slow delivery",
        'Prices are "ok", could be better',
        "Decent, but the app is confusing",
        "Average experience",
    ),
    (
        "Great service, fast delivery!",
        "Love the products, will buy again",
        'Best shop ever, "highly" recommended',
        "Quick, easy, cheap. Perfect",
        "Très bien, merci !",
        "Super Service, danke",
        "Always reliable, thanks",
    ),
)

CAMPAIGN_THEMES: tuple[str, ...] = (
    "New Year Sale",
    "Winter Clearance",
    "Spring Collection",
    "Easter Deals",
    "Mother's Day",
    "Summer Kick-off",
    "Summer Sale",
    "Back to School",
    "Autumn Favourites",
    "Halloween Specials",
    "Black Friday",
    "Holiday Gift Guide",
)
