#!/usr/bin/env python3
"""Generate config/glossary.toml, tarjim's named-entity glossary.

Inputs:
  * CLDR territory names in Arabic and English, read through the PyPI package `babel`
    (babel.Locale('ar').territories / Locale('en').territories). Only real countries and
    regions with two-letter codes are used; numeric region codes ('001', '150'), the unknown
    region 'ZZ', pseudo-locales ('XA', 'XB') and 'QO' are skipped. 'EU', 'EZ' and 'UN' come
    from the curated file instead.
  * scripts/glossary/curated.toml, written by hand for this project.

A curated entry whose `en` equals a CLDR entry's English name (after the renames in
EN_RENAME below, or equal to the raw CLDR name) extends it: Arabic forms and English
variants are merged, and kind/ambiguous come from the curated entry.

Usage (from the repository root):
    python3 -m pip install 'babel==2.19.0'
    python3 scripts/glossary/generate.py            # writes config/glossary.toml
    python3 scripts/glossary/generate.py --check    # only validates; exits 1 on problems

The output is deterministic: entries sorted by English name, lists in a fixed order.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
import unicodedata
from pathlib import Path

import babel
from babel import Locale
from babel.core import get_cldr_version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CURATED = HERE / "curated.toml"
OUTPUT = ROOT / "config" / "glossary.toml"

KINDS = ("person", "place", "organisation", "other")

# Territory codes that are not countries/regions (or that the curated file supplies).
SKIP_CODES = {"ZZ", "XA", "XB", "QO", "EU", "EZ", "UN"}

# CLDR's English display names that news English does not use; the CLDR name is kept as an
# English variant.
EN_RENAME = {
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "CI": "Ivory Coast",
    "CZ": "Czech Republic",
    "HK": "Hong Kong",
    "MO": "Macau",
    "MM": "Myanmar",
    "PS": "Palestine",
    "SH": "Saint Helena",
    "TR": "Turkey",
    "VC": "Saint Vincent and the Grenadines",
}

# CLDR Arabic names that need splitting or clean-up (parenthesised notes, " - " separators).
AR_OVERRIDE = {
    "CC": ["جزر كوكوس", "جزر كوكوس كيلينغ"],
    "CD": ["الكونغو كينشاسا"],
    "CG": ["الكونغو برازافيل"],
    "HK": ["هونغ كونغ"],
    "MM": ["ميانمار", "بورما"],
    "MO": ["ماكاو"],
    "TL": ["تيمور ليشتي"],
}

ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
ALEF_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي",
                           "ؤ": "و", "ئ": "ي"})


def normalize_ar(text: str) -> str:
    """The normalization tarjim applies before matching (see the glossary header)."""
    text = unicodedata.normalize("NFC", text)
    text = ARABIC_DIACRITICS.sub("", text)
    return text.translate(ALEF_FOLD)


def match_key(form: str) -> str:
    """A form as the matcher sees it: each word without a leading article, then normalized.

    Only a bare-alef "ال" is the article: "ألمانيا", "إلهام", "آل ثاني" keep their first letters
    (stripping after alef folding would turn ألمانيا into مانيا).
    """
    words = []
    for word in ARABIC_DIACRITICS.sub("", unicodedata.normalize("NFC", form)).split():
        if word.startswith("\u0627\u0644") and len(word) > 4:
            word = word[2:]
        words.append(normalize_ar(word))
    return " ".join(words)


def letters(form: str) -> int:
    return len(ARABIC_LETTER.findall(normalize_ar(form)))


def dedupe(items):
    seen, out = set(), []
    for item in items:
        item = " ".join(item.split())
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def cldr_entries() -> dict[str, dict]:
    ar_names = Locale("ar").territories
    en_names = Locale("en").territories
    entries = {}
    for code in sorted(en_names):
        if len(code) != 2 or not code.isalpha() or code in SKIP_CODES:
            continue
        if code not in ar_names:
            continue
        raw_en = en_names[code]
        en = EN_RENAME.get(code)
        if en is None:
            en = raw_en.replace(" & ", " and ")
            en = re.sub(r"^St\. ", "Saint ", en)
        variants = [raw_en] if raw_en != en else []
        if code in AR_OVERRIDE:
            ar = list(AR_OVERRIDE[code])
        else:
            name = ar_names[code]
            ar = [re.sub(r"\s*\(.*?\)\s*", " ", name).replace(" - ", " ").strip()]
            for inner in re.findall(r"\((.*?)\)", name):
                ar.append(inner.strip())
        entries[en] = {
            "en": en,
            "kind": "place",
            "ar": dedupe(ar),
            "en_variants": dedupe(v for v in variants if v != en),
            "source": "cldr",
            "ambiguous": False,
            "_raw_en": raw_en,
            "_code": code,
        }
    return entries


def load_curated() -> list[dict]:
    with CURATED.open("rb") as fh:
        data = tomllib.load(fh)
    terms = data.get("terms", [])
    for i, term in enumerate(terms):
        unknown = set(term) - {"en", "kind", "ar", "en_variants", "source", "ambiguous"}
        if unknown:
            sys.exit(f"curated.toml term {i} ({term.get('en')}): unknown keys {sorted(unknown)}")
        for key in ("en", "kind", "ar"):
            if key not in term:
                sys.exit(f"curated.toml term {i} ({term.get('en')}): missing {key}")
    return terms


def merge(cldr: dict[str, dict], curated: list[dict]) -> list[dict]:
    by_raw = {e["_raw_en"]: e for e in cldr.values()}
    out = dict(cldr)
    seen_curated = set()
    for term in curated:
        en = term["en"].strip()
        if en in seen_curated:
            sys.exit(f"curated.toml: duplicate en {en!r}")
        seen_curated.add(en)
        base = out.get(en) or by_raw.get(en)
        if base is not None and base["source"].startswith("cldr"):
            del out[base["en"]]
            entry = {
                "en": en,
                "kind": term["kind"],
                "ar": dedupe(base["ar"] + term["ar"]),
                "en_variants": dedupe(v for v in base["en_variants"] + [base["en"]]
                                      + term.get("en_variants", []) if v != en),
                "source": "cldr+curated",
                "ambiguous": bool(term.get("ambiguous", False)),
            }
        else:
            entry = {
                "en": en,
                "kind": term["kind"],
                "ar": dedupe(term["ar"]),
                "en_variants": dedupe(v for v in term.get("en_variants", []) if v != en),
                "source": "curated",
                "ambiguous": bool(term.get("ambiguous", False)),
            }
        if entry["en"] in out:
            sys.exit(f"curated.toml: {en!r} collides with another entry")
        out[entry["en"]] = entry
    for e in out.values():
        e.pop("_raw_en", None)
        e.pop("_code", None)
    return sorted(out.values(), key=lambda e: (e["en"].casefold(), e["en"]))


def validate(entries: list[dict]) -> list[str]:
    problems = []
    ens = {}
    owners: dict[str, list[str]] = {}
    for e in entries:
        en = e["en"]
        if en in ens:
            problems.append(f"duplicate en: {en}")
        ens[en] = e
        if e["kind"] not in KINDS:
            problems.append(f"{en}: bad kind {e['kind']!r}")
        if not e["ar"]:
            problems.append(f"{en}: no Arabic forms")
        if not any(letters(f) >= 3 for f in e["ar"]):
            problems.append(f"{en}: no Arabic form with 3+ letters")
        for f in e["ar"]:
            if letters(f) < 3:
                problems.append(f"{en}: Arabic form {f!r} is shorter than 3 letters")
            if re.search("[A-Za-z]", f):
                problems.append(f"{en}: Arabic form {f!r} contains Latin letters")
            owners.setdefault(match_key(f), []).append(en)
        for v in e["en_variants"]:
            if not v.strip() or re.search("[\u0600-\u06ff]", v):
                problems.append(f"{en}: bad English variant {v!r}")
        if re.search("[\u0600-\u06ff]", en):
            problems.append(f"{en}: Arabic letters in en")
    for key, names in sorted(owners.items()):
        names = sorted(set(names))
        if len(names) > 1:
            clear = [n for n in names if not ens[n]["ambiguous"]]
            if len(clear) > 1:
                problems.append(f"Arabic form {key!r} claimed by non-ambiguous entries {clear}")
    return problems


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def toml_list(items) -> str:
    return "[" + ", ".join(toml_str(i) for i in items) + "]"


def render(entries: list[dict]) -> str:
    counts = {k: sum(1 for e in entries if e["kind"] == k) for k in KINDS}
    src = {s: sum(1 for e in entries if e["source"] == s) for s in ("cldr", "curated", "cldr+curated")}
    head = f"""\
# tarjim named-entity glossary. GENERATED FILE: do not edit by hand.
# Regenerate from the repository root with:
#     python3 -m pip install 'babel=={babel.__version__}'
#     python3 scripts/glossary/generate.py
# Edit scripts/glossary/curated.toml (or the script) instead of this file.
#
# Sources and licences:
#   * Unicode CLDR {get_cldr_version()} territory display names (ar, en), Unicode License v3
#     (https://www.unicode.org/license.txt), read through the Python package babel
#     {babel.__version__} (BSD-3-Clause).
#   * scripts/glossary/curated.toml: written for this project (people, places, organisations,
#     news outlets, demonyms, short forms); it overrides/extends CLDR entries with the same
#     English name.
#
# Entries: {len(entries)} (person {counts['person']}, place {counts['place']}, organisation \
{counts['organisation']}, other {counts['other']}); source cldr {src['cldr']}, curated \
{src['curated']}, cldr+curated {src['cldr+curated']}.
#
# Fields: en = the English rendering to use; kind = person | place | organisation | other;
# ar = Arabic forms; en_variants = other English forms that count as this term (omitted when
# none); source = cldr | curated | cldr+curated; ambiguous = true when an Arabic form is also
# an ordinary word or the English name collides with one (omitted when false).
# Arabic forms are matched after normalization (diacritics/tatweel removed; أ إ آ ٱ → ا,
# ة → ه, ى → ي, ؤ → و, ئ → ي), with optional prefixes و ف ب ل ك / ال and inflection suffixes.
"""
    parts = [head.rstrip("\n")]
    for e in entries:
        lines = ["", "[[terms]]", f"en = {toml_str(e['en'])}", f"kind = {toml_str(e['kind'])}",
                 f"ar = {toml_list(e['ar'])}"]
        if e["en_variants"]:
            lines.append(f"en_variants = {toml_list(e['en_variants'])}")
        lines.append(f"source = {toml_str(e['source'])}")
        if e["ambiguous"]:
            lines.append("ambiguous = true")
        parts.append("\n".join(lines))
    return "\n".join(parts) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="validate only, do not write")
    ap.add_argument("--out", type=Path, default=OUTPUT)
    args = ap.parse_args()

    entries = merge(cldr_entries(), load_curated())
    problems = validate(entries)
    if problems:
        for p in problems:
            print("glossary:", p, file=sys.stderr)
        print(f"glossary: {len(problems)} problem(s); nothing written", file=sys.stderr)
        return 1
    text = render(entries)
    tomllib.loads(text)  # the output must parse
    if args.check:
        print(f"glossary: {len(entries)} entries OK")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"glossary: wrote {len(entries)} entries to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
