"""Money is integer cents; this is how people read it."""


def format_money(cents: int, currency: str) -> str:
    """``format_money(123450, "EUR") == "EUR 1,234.50"``; negative: ``"-EUR 88.50"``."""
    units, rest = divmod(abs(int(cents)), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{currency} {units:,}.{rest:02d}"
