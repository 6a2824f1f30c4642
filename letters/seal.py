"""A drawn seal for firms that have not uploaded an image of theirs."""

from html import escape


def drawn_seal_svg(firm_name: str) -> str:
    """Return an SVG seal: a red ring, a star and the firm's name."""
    name = escape(firm_name[:16])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
        '<circle cx="60" cy="60" r="55" fill="none" stroke="#c8102e" stroke-width="4"/>'
        '<polygon points="60,30 67,50 88,50 71,62 77,83 60,70 43,83 49,62 32,50 53,50" fill="#c8102e"/>'
        f'<text x="60" y="100" font-size="9" font-family="Noto Serif CJK SC,HanaMinB,serif" text-anchor="middle" fill="#c8102e">{name}</text>'
        "</svg>"
    )
