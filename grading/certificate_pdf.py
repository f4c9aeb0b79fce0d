"""Draw a certificate as a one-page PDF with ReportLab: the text it was issued with, and its verification address."""

from __future__ import annotations

import importlib.util
import io
from functools import cache
from pathlib import Path

from django.utils import timezone
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Paragraph
from reportlab.platypus.flowables import KeepInFrame

from grading.certificates import certificate_lines, verification_url
from grading.models import Certificate

INK = colors.HexColor("#1f2d3d")
ACCENT = colors.HexColor("#1e5aa8")
QR_SIZE = 32 * mm


@cache
def _fonts() -> tuple[str, str]:
    """Register DejaVu Serif (shipped with matplotlib, a dependency already) for names in any script; fall back to
    the PDF's built-in Times, which covers Latin-1 only."""
    spec = importlib.util.find_spec("matplotlib")
    folders = list(spec.submodule_search_locations or []) if spec else []
    fonts = Path(folders[0]) / "mpl-data" / "fonts" / "ttf" if folders else Path()
    regular, bold = fonts / "DejaVuSerif.ttf", fonts / "DejaVuSerif-Bold.ttf"
    if not (regular.is_file() and bold.is_file()):
        return "Times-Roman", "Times-Bold"
    pdfmetrics.registerFont(TTFont("CertificateSerif", str(regular)))
    pdfmetrics.registerFont(TTFont("CertificateSerif-Bold", str(bold)))
    return "CertificateSerif", "CertificateSerif-Bold"


def _escape(text: str) -> str:
    """Escape text for ReportLab's paragraph markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def certificate_pdf(certificate: Certificate) -> bytes:
    """Return the certificate as an A4 landscape PDF: title, name, statement, exercises, signature, verification."""
    regular, bold = _fonts()
    width, height = landscape(A4)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True)
    canvas.setTitle(f"Certificate — {certificate.name} — {certificate.event.title}")
    canvas.setAuthor("ML_INFN hackathons")
    canvas.setSubject(certificate.event.title)

    # A double frame, as paper certificates have.
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    canvas.setFillColor(ACCENT)
    canvas.setFont(bold, 13)
    canvas.drawCentredString(width / 2, height - 34 * mm, "ML_INFN — Machine Learning at INFN")
    canvas.setFillColor(INK)
    canvas.setFont(bold, 34)
    canvas.drawCentredString(width / 2, height - 52 * mm, "Certificate")
    # The name as a paragraph in a band of its own: a long one (up to 301 characters, first and last name of 150
    # each) wraps and shrinks to fit the page rather than running off both edges.
    name = ParagraphStyle("name", fontName=bold, fontSize=24, leading=28, alignment=TA_CENTER, textColor=INK)
    band = Frame(30 * mm, height - 76 * mm, width - 60 * mm, 16 * mm, 0, 0, 0, 0, showBoundary=0)
    band.addFromList(
        [KeepInFrame(width - 60 * mm, 16 * mm, [Paragraph(_escape(certificate.name), name)], mode="shrink")], canvas
    )

    body = ParagraphStyle("body", fontName=regular, fontSize=13, leading=18, alignment=TA_CENTER, textColor=INK)
    item = ParagraphStyle("item", parent=body, fontSize=11.5, leading=15)
    heading = ParagraphStyle("heading", parent=body, fontName=bold, fontSize=12, spaceBefore=8, spaceAfter=2)
    story: list = [Paragraph(_escape(certificate.statement), body)]
    lines = certificate_lines(certificate)
    if lines:
        story.append(Paragraph("Exercises", heading))
        story += [Paragraph(_escape(line), item) for line in lines]
    # The text and the exercises fill the middle; an organizer's long text shrinks to fit rather than overflow.
    frame = Frame(30 * mm, 62 * mm, width - 60 * mm, height - 140 * mm, showBoundary=0)
    frame.addFromList([KeepInFrame(width - 60 * mm, height - 140 * mm, story, mode="shrink")], canvas)

    issued = timezone.localtime(certificate.issued_at)
    canvas.setFont(regular, 11)
    canvas.line(width / 2 - 45 * mm, 46 * mm, width / 2 + 45 * mm, 46 * mm)
    canvas.drawCentredString(width / 2, 41 * mm, certificate.signed_by or "The organizers")
    canvas.drawCentredString(width / 2, 35 * mm, f"Issued on {issued.day} {issued:%B %Y}")

    url = verification_url(certificate)
    qr = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, canvas, width - 22 * mm - QR_SIZE, 22 * mm)
    canvas.setFont(regular, 8)
    canvas.setFillColor(colors.HexColor("#4a5a6a"))
    canvas.drawString(22 * mm, 26 * mm, "Verify this certificate at:")
    canvas.drawString(22 * mm, 22 * mm, url)
    canvas.linkURL(url, (22 * mm, 20 * mm, 22 * mm + canvas.stringWidth(url, regular, 8), 30 * mm))

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
