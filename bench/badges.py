"""Badge PDFs: 1,200 badges with names in every script the brief lists in one print PDF
(target under 1.5 s) and one badge on demand (target under 10 ms), beside two baselines
made from the same badges in the same run: reportlab's own QrCodeWidget for the QR code
instead of ours, and no QR at all (text alone). The QR codes carry real ticket tokens
(Ed25519, as shared.auth signs them for badges and e-tickets).

    .venv/bin/python bench/badges.py

The baselines draw exactly our badge (the same text, band and layout) with only the QR
drawing swapped. The widget baseline takes about half a minute.
"""

import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.badges import rendering  # noqa: E402
from services.badges.rendering import ROLES, BadgeData, render_badges  # noqa: E402
from shared.auth import ticket_token  # noqa: E402

COUNT = 1200
ON_DEMAND_RUNS = 50
SECRET = "bench-secret-key"
TOKEN_QR_MODULES = 45  # a 109-character ticket token at level M is a version 7 symbol

GIVEN = [
    "Łukasz", "Małgorzata", "Wojciech", "Zofia", "Αλέξανδρος", "Ελένη", "Δημήτρης", "Борис",
    "Олена", "Дмитро", "Søren", "Mette", "Ægir", "Çağlar", "Şule", "Gökhan", "José", "María",
    "Íñigo", "Anna", "Pieter", "Chloé", "Björn", "Ilse", "Tomasz", "Maria Fernanda de los Ángeles",
    "Jean-Baptiste", "Aoife", "Giulia", "Nuno", "محمد", "فاطمة", "דוד", "נועה", "小明", "美玲",
    "太郎", "さくら", "민준", "서연", "अनुष्का", "राहुल", "สมชาย", "ნინო", "Արամ",
]
FAMILY = [
    "Żółć", "Brzęczyszczykiewicz", "Wiśniewska", "Παπαδόπουλος", "Οικονόμου", "Іваненко",
    "Шевченко", "Ørsted", "Kjærgaard", "Øhlenschlæger", "Öztürk", "Yılmaz", "Çelik",
    "García Márquez", "Núñez", "van der Berg", "Lefèvre", "Åkesson", "Müller",
    "Santísima Trinidad Ñúñez-Öberg", "Ó Súilleabháin", "Rossi", "Gonçalves", "الأحمد",
    "כהן", "王", "山田", "김", "शर्मा", "ใจดี", "ბერიძე", "Պետրոսյան",
    "",  # a single name
]
PRONOUNS = [None, None, None, "she/her", "he/him", "they/them"]
ORGANISATIONS = [
    "Copernicus Science Centre", "Experimentarium", "Science Museum Group",
    "Universcience – Cité des sciences et de l'industrie", "NEMO Science Museum",
    "Heureka, the Finnish Science Centre", "Deutsches Museum", "Technopolis",
    "Eugenides Foundation", "Museo Nazionale Scienza e Tecnologia Leonardo da Vinci",
    "Fundación Museo de la Ciencia y el Cosmos, Museos de Tenerife", "Tekniska museet",
    "Ciência Viva – Agência Nacional para a Cultura Científica e Tecnológica",
    "Kyiv Science Museum", "Feza Gürsey Science Center", "Norsk Teknisk Museum",
    "Centre for the Promotion of Science", "Ecsite", "Science Gallery Dublin", "Phaeno",
    "متحف العلوم", "Bloomfield Science Museum (מוזיאון המדע)", "中国科学技术馆", "日本科学未来館",
    "국립과천과학관", "National Council of Science Museums", "พิพิธภัณฑ์วิทยาศาสตร์",
]
COUNTRIES = [
    "PL", "DK", "GB", "FR", "NL", "FI", "DE", "BE", "GR", "IT", "ES", "SE", "PT", "UA", "TR",
    "NO", "RS", "IE", "XK", "EE", "HU", "CZ", "SI", "CH", "AT", "EG", "IL", "CN", "JP", "KR",
    "IN", "TH", "GE", "AM",
]
ROLE_WEIGHTS = {
    "delegate": 80, "speaker": 8, "exhibitor": 6, "staff": 2, "press": 1, "volunteer": 3,
}


def make_badges(count: int) -> list[BadgeData]:
    rng = random.Random(2027)
    roles = rng.choices(list(ROLE_WEIGHTS), weights=list(ROLE_WEIGHTS.values()), k=count)
    roles[: len(ROLES)] = ROLES  # every role appears
    badges = []
    for role in roles:
        registration_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        badges.append(
            BadgeData(
                registration_id=str(registration_id),
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                pronouns=rng.choice(PRONOUNS),
                organisation=rng.choice(ORGANISATIONS),
                country=rng.choice(COUNTRIES),
                role=role,
                qr_payload=ticket_token(SECRET, str(registration_id)),
                name_order=rng.choice(rendering.NAME_ORDERS),
            )
        )
    return badges


def widget_qr(canvas, payload: str, x: float, y: float) -> None:
    """Baseline: the same QR code (level M, 4-module quiet zone) with reportlab's widget."""
    layout = rendering.LAYOUT
    quiet = layout.qr_quiet_modules * layout.qr_size / TOKEN_QR_MODULES
    size = layout.qr_size + 2 * quiet  # the widget's size includes its quiet zone
    widget = QrCodeWidget(
        payload,
        barLevel="M",
        barBorder=layout.qr_quiet_modules,
        barWidth=size,
        barHeight=size,
    )
    drawing = Drawing(size, size)
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x - quiet, y - quiet)


def no_qr(canvas, payload: str, x: float, y: float) -> None:
    """Baseline: text and band only."""


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    badges = make_badges(COUNT)
    render_badges(badges[:64], "a4")  # warm up: fonts read once per process
    token_lengths = sorted({len(b.qr_payload) for b in badges})
    print(
        f"{COUNT} badges, tokens of {token_lengths} characters, Python "
        f"{platform.python_version()} on {os.cpu_count()} CPUs\n"
    )

    rows = []
    seconds, rendered = timed(render_badges, badges, "a4")
    rows.append(("ours, A4 sheets of four", seconds, len(rendered.pdf)))
    ours_a4 = seconds
    seconds, rendered = timed(render_badges, badges, "a6")
    rows.append(("ours, A6 pages", seconds, len(rendered.pdf)))
    with mock.patch.object(rendering, "_draw_qr", no_qr):
        seconds, rendered = timed(render_badges, badges, "a4")
    rows.append(("baseline: text only, no QR (A4)", seconds, len(rendered.pdf)))
    with mock.patch.object(rendering, "_draw_qr", widget_qr):
        seconds, rendered = timed(render_badges, badges, "a4")
    rows.append(("baseline: QrCodeWidget (A4)", seconds, len(rendered.pdf)))
    widget_a4 = seconds

    single = [badges[COUNT // 2]]
    times = [timed(render_badges, single, "a6")[0] for _ in range(ON_DEMAND_RUNS)]
    p95 = statistics.quantiles(times, n=20)[18]

    print(f"{f'{COUNT:,} badges in one PDF':34} {'seconds':>8} {'badges/s':>9} {'PDF size':>10}")
    for label, seconds, size in rows:
        print(f"{label:34} {seconds:8.2f} {COUNT / seconds:9.0f} {size / 1e6:8.2f} MB")
    print(f"\nQrCodeWidget / ours (A4): {widget_a4 / ours_a4:.1f}x")
    print(
        f"one A6 badge on demand, {ON_DEMAND_RUNS} renders: "
        f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )
    print("targets: 1,200 badges under 1.5 s; one badge under 10 ms")


if __name__ == "__main__":
    main()
