"""What the notice of rights (#21.4) costs an SMS offer: segments per first message, before and after, per language.

Renders the real first offer (catalog texts, three options with descriptions, the page link) through
`channels.sms.render_sms` within its default 4-segment budget, once without and once with the short
notice and its link, and prints the segments and what the budget had to drop (descriptions, page
link, options). Run: `.venv/bin/python bench/rights_notice_sms.py [base_url]`.
"""

from __future__ import annotations

import datetime as dt
import sys

import locales
from channels.segments import count_segments
from channels.sms import render_sms
from conversations.ports import ChoiceView, OutboundMessage, RightsNotice
from locales.formatting import format_date, format_datetime, format_time
from rebooking_core.rights.notice import NOTICES, page_path

DEP = dt.datetime(2026, 12, 8, 6, 30, tzinfo=dt.UTC)


def offer(lang: str, base_url: str, regime: str | None) -> OutboundMessage:
    """A cancelled flight's first offer with three options, as the renderer builds it."""
    tz = "Europe/Berlin"
    body = locales.render(
        "offer.cancelled",
        lang,
        airline="Rebook Air",
        flight="RB100",
        origin="Frankfurt am Main",
        destination="Madrid",
        date=format_date(DEP, tz, lang),
    )
    choices = []
    for n in range(1, 4):
        dep = DEP + dt.timedelta(hours=2 * n)
        title = locales.render(
            "option.title", lang, dep=format_time(dep, tz, lang), flights=f"RB10{2 * n}"
        )
        arr = format_datetime(dep + dt.timedelta(hours=2, minutes=30), "Europe/Madrid", lang)
        choices.append(
            ChoiceView(
                token=f"opt:1:{n}",
                number=n,
                title=title,
                description=locales.render("option.direct", lang, arr=arr),
            )
        )
    rights = None
    if regime is not None:
        notice = NOTICES[regime]
        link = base_url + page_path(regime, lang)
        text, short, tag = (
            locales.render(key, lang) for key in (notice.key, notice.short_key, notice.tag_key)
        )
        rights = RightsNotice(text=text, short=short, link=link, tag=tag)
    return OutboundMessage(
        idempotency_key="k",
        to="+34600111222",
        locale=lang,
        body=body,
        choices=tuple(choices),
        choices_prompt=locales.render("offer.prompt", lang, count=3),
        page_link=f"{base_url}/p/3RMgfc8kr4es0cQxe5uuyG",
        rights=rights,
    )


def shown(text: str, message: OutboundMessage) -> str:
    """What the budget kept: the body whole or cut, options shown (described in full or not), page link, notice form."""
    kept = [c for c in message.choices if f"{c.number}) {c.title}" in text]
    parts = ["body" if message.body in text else "body cut", f"{len(kept)} options"]
    if kept and not all(c.description in text for c in kept):
        parts[-1] += " (descr. cut)"
    if message.page_link and message.page_link in text:
        parts.append("page link")
    if message.rights is not None:
        parts.append("notice" if message.rights.short in text else "tag")
    return ", ".join(parts)


def main() -> None:
    base_url = sys.argv[1] if len(sys.argv) > 1 else "https://rebook.example.com"
    print(f"SMS first offer within 4 segments, page and rights links on {base_url}")
    print(f"{'lang':<5}{'regime':<8}{'before':>7}{'after':>6}  what fits before -> after")
    for lang in locales.SUPPORTED:
        for regime in NOTICES:
            before_msg, after_msg = offer(lang, base_url, None), offer(lang, base_url, regime)
            before, after = render_sms(before_msg, 4), render_sms(after_msg, 4)
            print(
                f"{lang:<5}{regime:<8}{count_segments(before):>7}{count_segments(after):>6}  "
                f"{shown(before, before_msg)} -> {shown(after, after_msg)}"
            )


if __name__ == "__main__":
    main()
