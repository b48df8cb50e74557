"""IATA standard delay codes (Airport Handling Manual, AHM 730), numeric and alphabetic, and mnemonics feeds send.

The regimes classify codes by these keys; `canonical` turns what a feed sent into one of them.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["ALPHA", "IATA_CODES", "MNEMONICS", "canonical"]

#: AHM 730 numeric codes, with the alphabetic code and what each covers.
IATA_CODES: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "06": ("OA", "no gate or stand available due to own airline activity"),
        "09": ("SG", "scheduled ground time less than declared minimum"),
        "11": ("PD", "late check-in, acceptance after deadline"),
        "12": ("PL", "late check-in, congestion in check-in area"),
        "13": ("PE", "check-in error"),
        "14": ("PO", "oversales, booking errors"),
        "15": ("PH", "boarding: discrepancies and paging, missing checked-in passenger"),
        "16": ("PS", "commercial publicity, passenger convenience, VIP, press"),
        "17": ("PC", "catering order late or incorrect"),
        "18": ("PB", "baggage processing, sorting"),
        "19": ("PW", "boarding or de-boarding of passengers with reduced mobility"),
        "21": ("CD", "cargo documentation errors"),
        "22": ("CP", "cargo late positioning"),
        "23": ("CC", "cargo late acceptance"),
        "24": ("CI", "cargo inadequate packing"),
        "25": ("CO", "cargo oversales, booking errors"),
        "26": ("CU", "cargo late preparation in warehouse"),
        "27": ("CE", "mail documentation, packing"),
        "28": ("EP", "mail late positioning"),
        "29": ("EC", "mail late acceptance"),
        "31": ("GD", "aircraft documentation late or inaccurate"),
        "32": ("GL", "loading and unloading, lack of loading staff"),
        "33": ("GE", "loading equipment lacking or broken down"),
        "34": ("GS", "servicing equipment lacking or broken down"),
        "35": ("GC", "aircraft cleaning"),
        "36": ("GF", "fuelling and defuelling, fuel supplier"),
        "37": ("GB", "catering late delivery or loading"),
        "38": ("GU", "ULD lacking or unserviceable"),
        "39": ("GT", "technical equipment (e.g. push-back) lacking or broken down"),
        "41": ("TD", "aircraft defects"),
        "42": ("TM", "scheduled maintenance, late release"),
        "43": ("TN", "non-scheduled maintenance, special checks"),
        "44": ("TS", "spares and maintenance equipment lacking or broken down"),
        "45": ("TA", "AOG spares to be carried to another station"),
        "46": ("TC", "aircraft change for technical reasons"),
        "47": ("TL", "no planned stand-by aircraft for technical reasons"),
        "48": ("TV", "scheduled cabin configuration or version adjustments"),
        "51": ("DF", "damage during flight operations: bird or lightning strike, turbulence, heavy landing, taxi collision"),
        "52": ("DG", "damage during ground operations: collisions, loading damage, towing"),
        "55": ("ED", "departure control system failure"),
        "56": ("EC", "cargo preparation or documentation system failure"),
        "57": ("EF", "flight plan system failure"),
        "58": ("EO", "other automated system failure"),
        "61": ("FP", "flight plan late or changed"),
        "62": ("FF", "operational requirements: fuel, load alteration"),
        "63": ("FT", "late crew boarding or departure procedures"),
        "64": ("FS", "flight deck crew shortage, sickness, flight time limitations"),
        "65": ("FR", "flight deck crew special request"),
        "66": ("FL", "late cabin crew boarding or departure procedures"),
        "67": ("FC", "cabin crew shortage, sickness, flight time limitations"),
        "68": ("FA", "cabin crew error or special request"),
        "69": ("FB", "captain's request for a security check"),
        "71": ("WO", "weather at the departure station"),
        "72": ("WT", "weather at the destination station"),
        "73": ("WR", "weather en route or at the alternate"),
        "75": ("WI", "de-icing of aircraft"),
        "76": ("WS", "removal of snow, ice, water or sand from the airport"),
        "77": ("WG", "ground handling impaired by adverse weather"),
        "81": ("AT", "ATFM: ATC en-route demand or capacity"),
        "82": ("AX", "ATFM: ATC staff or equipment en route, industrial action, military exercise"),
        "83": ("AE", "ATFM: restriction at the destination airport"),
        "84": ("AW", "ATFM: weather at destination"),
        "85": ("AS", "mandatory security"),
        "86": ("AG", "immigration, customs, health"),
        "87": ("AF", "airport facilities: stands, ramp congestion, lighting, buildings"),
        "88": ("AD", "restrictions at the destination airport: closure, industrial action, curfew"),
        "89": ("AM", "restrictions at the departure airport, ATC, start-up and push-back"),
        "91": ("RL", "load connection: awaiting load from another flight"),
        "92": ("RT", "through check-in error"),
        "93": ("RA", "aircraft rotation: late arrival from another flight or sector"),
        "94": ("RS", "cabin crew rotation"),
        "95": ("RC", "crew rotation: awaiting crew from another flight"),
        "96": ("RO", "operations control: re-routing, diversion, consolidation"),
        "97": ("MI", "industrial action within own airline"),
        "98": ("MO", "industrial action outside own airline (excluding ATS)"),
        "99": ("MX", "other reason"),
    }
)

#: Alphabetic AHM 730 code -> numeric code. 'EC' names both 29 and 56; it is left out.
ALPHA: MappingProxyType[str, str] = MappingProxyType(
    {
        alpha: number
        for number, (alpha, _) in IATA_CODES.items()
        if sum(1 for a, _ in IATA_CODES.values() if a == alpha) == 1
    }
)

#: Reason mnemonics ops feeds send in place of an IATA code (up to 8 characters, the disruption's `reason`).
MNEMONICS: MappingProxyType[str, str] = MappingProxyType(
    {
        "WEAT": "weather",
        "WX": "weather",
        "ATC": "air traffic control",
        "ATFM": "air traffic flow management",
        "SEC": "security",
        "STRK-EXT": "strike outside the airline",
        "STRKX": "strike outside the airline",
        "STRK": "strike of the airline's own staff",
        "BIRD": "bird strike",
        "FOD": "foreign object on the runway",
        "POL": "political instability",
        "MED": "medical emergency on board",
        "UNRULY": "disruptive passenger",
        "VOLC": "volcanic ash",
        "AIRP": "airport closure",
        "MFR": "hidden manufacturing defect revealed by the manufacturer or an authority",
        "TECH": "technical fault",
        "CREW": "crew shortage or sickness",
        "SAFE": "decision required for safety (pilot or safety management system)",
    }
)


def canonical(code: str | None) -> str | None:
    """The key a regime classifies `code` by: trimmed, upper case, an alphabetic AHM code as its number."""
    if code is None:
        return None
    key = code.strip().upper()
    return ALPHA.get(key, key) or None
