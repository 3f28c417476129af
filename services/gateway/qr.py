"""The estate's printable poster: a QR code of ``<PUBLIC_BASE_URL>/e/<estate_id>``, the estate's
name and 扫码反映问题, as SVG (any size, prints sharp) or PNG.

The QR code is made by segno (pure Python, no native code). SVG text is drawn by the viewer's
fonts; a PNG has its text drawn here, so it needs a Chinese font on this machine (the same one
the browser tests install): without one the PNG is refused with a hint, never printed with
empty boxes where the name should be.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import segno

CALL = "扫码反映问题"
HINT = "物业受理后全程可查 · 连心"
WIDTH, HEIGHT = 600, 820
#: Where a Chinese font usually is (Debian's fonts-wqy-zenhei, fonts-noto-cjk; macOS).
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


class NoChineseFont(RuntimeError):
    """A PNG poster needs a font with 汉字; the SVG one does not."""


def estate_url(base_url: str, estate_id: str) -> str:
    return f"{base_url.rstrip('/')}/e/{estate_id}"


def poster_svg(url: str, estate_name: str) -> bytes:
    """An A-series-shaped SVG poster: name on top, the QR code, the call to action under it."""
    code = segno.make(url, error="m")
    scale = max(1, 440 // code.symbol_size(scale=1, border=4)[0])
    size = code.symbol_size(scale=scale, border=4)[0]
    inline = code.svg_inline(scale=scale, border=4, dark="#000", light="#fff")
    left = (WIDTH - size) // 2
    font = "font-family=\"'PingFang SC','Noto Sans CJK SC','WenQuanYi Zen Hei','Microsoft YaHei',sans-serif\""
    name = escape(estate_name)
    body = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">'
        f"<title>{name} · {CALL}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<rect width="{WIDTH}" height="120" fill="#b71c1c"/>'
        f'<text x="{WIDTH // 2}" y="78" text-anchor="middle" font-size="44" fill="#fff" {font}>{name}</text>'
        f'<g transform="translate({left},150)">{inline}</g>'
        f'<text x="{WIDTH // 2}" y="{150 + size + 70}" text-anchor="middle" font-size="52" font-weight="bold" '
        f'fill="#b71c1c" {font}>{CALL}</text>'
        f'<text x="{WIDTH // 2}" y="{150 + size + 120}" text-anchor="middle" font-size="24" fill="#555" {font}>'
        f"{escape(HINT)}</text>"
        f'<text x="{WIDTH // 2}" y="{HEIGHT - 24}" text-anchor="middle" font-size="16" fill="#888" '
        f'font-family="monospace">{escape(url)}</text>'
        "</svg>"
    )
    return body.encode("utf-8")


def chinese_font() -> Path:
    for candidate in CJK_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise NoChineseFont("a PNG poster needs a Chinese font (apt-get install fonts-wqy-zenhei); or write .svg")


def poster_png(url: str, estate_name: str) -> bytes:
    """The same poster as a PNG (Pillow draws the text with a Chinese font of this machine)."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = chinese_font()
    code = segno.make(url, error="m")
    scale = max(1, 440 // code.symbol_size(scale=1, border=4)[0])
    raw = io.BytesIO()
    code.save(raw, kind="png", scale=scale, border=4)
    symbol = Image.open(io.BytesIO(raw.getvalue())).convert("RGB")
    poster = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(poster)
    draw.rectangle((0, 0, WIDTH, 120), fill="#b71c1c")

    def centred(text: str, y: int, size: int, fill: str) -> None:
        font = ImageFont.truetype(str(font_path), size)
        while draw.textlength(text, font=font) > WIDTH - 40 and size > 12:  # a long name shrinks to fit
            size -= 2
            font = ImageFont.truetype(str(font_path), size)
        draw.text((WIDTH // 2, y), text, font=font, fill=fill, anchor="mm")

    centred(estate_name, 60, 44, "white")
    poster.paste(symbol, ((WIDTH - symbol.width) // 2, 150))
    below = 150 + symbol.height
    centred(CALL, below + 55, 52, "#b71c1c")
    centred(HINT, below + 110, 24, "#555555")
    centred(url, HEIGHT - 30, 16, "#888888")
    out = io.BytesIO()
    poster.save(out, "PNG", optimize=True)
    return out.getvalue()
