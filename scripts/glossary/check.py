#!/usr/bin/env python3
"""Check config/glossary.toml: structure, Arabic-form uniqueness, and coverage of the named
entities in samples/*.txt.

    python3 scripts/glossary/check.py            # exits 1 on any problem or coverage gap
    python3 scripts/glossary/check.py --matches  # also list every entry each sample triggers

The matcher here emulates the one described in the glossary header (normalization, the
prefixes و ف ب ل ك / ال, the inflection suffixes, multi-word forms as consecutive words). It is
a test aid, not tarjim's implementation.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
GLOSSARY = ROOT / "config" / "glossary.toml"
SAMPLES = ROOT / "samples"

KINDS = {"person", "place", "organisation", "other"}
DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})
WORD = re.compile("[\u0621-\u064a\u0671-\u06d3\u0610-\u061a\u064b-\u065f\u0670\u0640]+|[0-9٠-٩]+")
LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
SUFFIXES = sorted(["ي", "ه", "يه", "ين", "يين", "ون", "يون", "ان", "يان", "ات"], key=len, reverse=True)
PREFIX_CHARS = "وفبلك"

# Named entities identified by reading each sample (surface form as written -> expected en).
SAMPLE_ENTITIES = {
    "000": [
        ("الأذربيجاني", "Azerbaijan"), ("علييف", "Ilham Aliyev"), ("بلينكن", "Antony Blinken"),
        ("أذربيجان", "Azerbaijan"), ("أرمينيا", "Armenia"), ("قره باغ", "Karabakh"),
        ("الأرمن", "Armenia"), ("الأرمينية", "Armenia"), ("الولايات المتحدة", "United States"),
        ("باكو", "Baku"), ("روسيا", "Russia"), ("موسكو", "Moscow"), ("روسية", "Russia"),
        ("ممر لاتشين", "Lachin Corridor"), ("ناغورني قره باغ", "Nagorno-Karabakh"),
        ("القوقاز", "Caucasus"),
        ("جمهورية أذربيجان الاشتراكية السوفيتية", "Azerbaijan Soviet Socialist Republic"),
        ("جمهورية ناغورني قره باغ", "Artsakh"), ("يريفان", "Yerevan"), ("روسياه", "Russia"),
        ("الاتحاد الأوروبي", "European Union"), ("نيكول باشينيان", "Nikol Pashinyan"),
        ("الروسي", "Russia"), ("فلاديمير بوتين", "Vladimir Putin"),
        ("إلهام علييف", "Ilham Aliyev"), ("السوفيتية", "Soviet Union"),
    ],
    "001": [
        ("أذربيجان", "Azerbaijan"), ("كاراباخ", "Karabakh"), ("الأرمنية", "Armenia"),
        ("الأذربيجاني", "Azerbaijan"), ("إلهام علييف", "Ilham Aliyev"), ("علييف", "Ilham Aliyev"),
        ("الأميركي", "United States"), ("أنتوني بلينكن", "Antony Blinken"),
        ("بلينكن", "Antony Blinken"), ("الأرمن", "Armenia"), ("الأرمينية", "Armenia"),
        ("الأذربيجانية", "Azerbaijan"), ("أنار إيفازوف", "Anar Eyvazov"), ("أورال", "Ural"),
        ("الأرمني", "Armenia"), ("شوشا", "Shusha"), ("يريفان", "Yerevan"), ("الروسية", "Russia"),
        ("ناغورنو كاراباخ", "Nagorno-Karabakh"), ("ناغورنو كارباخ", "Nagorno-Karabakh"),
        ("باكو", "Baku"), ("ممر لاتشين", "Lachin Corridor"), ("أرمينيا", "Armenia"),
        ("ستيبانيكرت", "Stepanakert"), ("روسيا", "Russia"), ("روسية", "Russia"),
    ],
    "002": [
        ("الأمريكي", "United States"), ("أنتوني بلينكن", "Antony Blinken"),
        ("بلينكن", "Antony Blinken"), ("أذربيجان", "Azerbaijan"), ("أرمينيا", "Armenia"),
        ("قره باغ", "Karabakh"), ("الأذربيجانية", "Azerbaijan"), ("الأرمن", "Armenia"),
        ("الأمريكية", "United States"), ("الأذربيجاني", "Azerbaijan"),
        ("إلهام علييف", "Ilham Aliyev"), ("علييف", "Ilham Aliyev"),
        ("الأرميني", "Armenia"), ("نيكول باشينيان", "Nikol Pashinyan"), ("باكو", "Baku"),
        ("الولايات المتحدة", "United States"), ("تليغرام", "Telegram"),
        ("الأرمينية", "Armenia"), ("أرمن", "Armenia"), ("لأرمينيا", "Armenia"),
        ("جنوب القوقاز", "South Caucasus"), ("الاتحاد السوفييتي", "Soviet Union"),
        ("قرة باغ", "Karabakh"), ("جمهورية أذربيجان السوفييتية", "Azerbaijan Soviet Socialist Republic"),
        ('جمهورية مرتفعات "قره باغ"', "Artsakh"), ("آرتساخ", "Artsakh"), ("آذرية", "Azerbaijan"),
    ],
    "003": [
        ("أذربيجان", "Azerbaijan"), ("ناجورنو قره باغ", "Nagorno-Karabakh"),
        ("الأرمنية", "Armenia"), ("جنوب القوقاز", "South Caucasus"), ("أرمينيا", "Armenia"),
        ("الأذربيجاني", "Azerbaijan"), ("قره باغ", "Karabakh"),
        ("الاتحاد السوفييتي", "Soviet Union"), ("ممر لاتشين", "Lachin Corridor"),
        ("الأذربيجانية", "Azerbaijan"), ("باكو", "Baku"), ("الأرمينية", "Armenia"),
        ("الأرميني", "Armenia"), ("نيكول باشينيان", "Nikol Pashinyan"),
        ("للأرمن", "Armenia"), ("خانكيندي", "Khankendi"), ("الأرمن", "Armenia"),
        ("ستيباناكيرت", "Stepanakert"), ("جرينتش", "Greenwich Mean Time"),
        ("الروسية", "Russia"), ("للاتحاد الأوروبي", "European Union"),
        ("تويفو كلار", "Toivo Klaar"), ("روسيا", "Russia"), ("تركيا", "Turkey"),
        ("اللجنة الدولية للصليب الأحمر", "International Committee of the Red Cross"),
        ("أغدام", "Aghdam"),
    ],
    "004": [
        ("الروسية", "Russia"), ("قره باغ", "Karabakh"), ("ماريا زاخاروفا", "Maria Zakharova"),
        ("موسكو", "Moscow"), ("زاخاروفا", "Maria Zakharova"),
        ("ناغورني قره باغ", "Nagorno-Karabakh"), ("الأذربيجانية", "Azerbaijan"),
        ("باكو", "Baku"), ("الأرمينية", "Armenia"), ("الروسي", "Russia"), ("روسيا", "Russia"),
        ("أذربيجان", "Azerbaijan"), ("أرمينيا", "Armenia"), ("الأذربيجاني", "Azerbaijan"),
        ("جمهورية أذربيجان", "Azerbaijan"),
        ("جمهورية أذربيجان الاشتراكية السوفيتية", "Azerbaijan Soviet Socialist Republic"),
        ("جمهورية ناغورني قره باغ", "Artsakh"), ("القوقاز", "Caucasus"), ("الأرمن", "Armenia"),
        ("أردوغان", "Recep Tayyip Erdogan"), ("يريفان", "Yerevan"),
        ("الاتحاد الأوروبي", "European Union"), ("الولايات المتحدة", "United States"),
        ("فلاديمير بوتين", "Vladimir Putin"), ("إلهام علييف", "Ilham Aliyev"),
        ("نيكول باشينيان", "Nikol Pashinyan"), ("السوفيتية", "Soviet Union"),
        # "Sputnik" (Latin script) is a boilerplate line tarjim drops (config/default.toml).
    ],
}


def norm(text: str) -> str:
    return DIACRITICS.sub("", unicodedata.normalize("NFC", text)).translate(FOLD)


ARTICLE = "\u0627\u0644"  # bare alef + lam; أل/إل/آل are not the article (ألمانيا, إلهام)


def bare(text: str) -> str:
    return DIACRITICS.sub("", unicodedata.normalize("NFC", text))


def strip_article(word: str) -> str:
    return word[2:] if word.startswith(ARTICLE) and len(word) > 4 else word


def tokens(text: str) -> list[str]:
    """Source words with diacritics removed but letters not yet folded."""
    return [bare(t) for t in WORD.findall(text)]


def stems(token: str) -> set[str]:
    """Every normalized reading of a source word after removing allowed prefixes, the
    article and one inflection suffix."""
    bases = {token}
    for i in range(1, 3):
        head = token[:i]
        if all(c in PREFIX_CHARS for c in head) and len(token) - i >= 2:
            bases.add(token[i:])
    more = set()
    for b in bases:
        if b.startswith(ARTICLE) and len(b) > 3:
            more.add(b[2:])
        if b.startswith("لل") and len(b) > 3:  # لل = ل + ال
            more.add(b[2:])
    bases = {norm(b) for b in bases | more}
    out = set(bases)
    for b in bases:
        for s in SUFFIXES:
            if b.endswith(s) and len(b) - len(s) >= 2:
                out.add(b[: -len(s)])
    return out


def form_words(form: str) -> list[str]:
    return [norm(strip_article(w)) for w in bare(form).split()]


def find(entries, text: str) -> dict[str, list[str]]:
    toks = tokens(text)
    readings = [stems(t) for t in toks]
    hits: dict[str, list[str]] = {}
    for e in entries:
        for form in e["ar"]:
            words = form_words(form)
            n = len(words)
            for i in range(len(toks) - n + 1):
                if all(words[j] in readings[i + j] for j in range(n)):
                    hits.setdefault(e["en"], []).append(form)
                    break
    return hits


def validate(entries) -> list[str]:
    problems = []
    seen = Counter(e["en"] for e in entries)
    problems += [f"duplicate en {en!r}" for en, n in seen.items() if n > 1]
    owners: dict[str, set[str]] = {}
    for e in entries:
        for key in ("en", "kind", "ar", "source"):
            if key not in e:
                problems.append(f"{e.get('en')}: missing {key}")
        if e.get("kind") not in KINDS:
            problems.append(f"{e['en']}: bad kind {e.get('kind')!r}")
        if e.get("source") not in {"cldr", "curated", "cldr+curated"}:
            problems.append(f"{e['en']}: bad source {e.get('source')!r}")
        for key in ("ar", "en_variants"):
            if key in e and not e[key]:
                problems.append(f"{e['en']}: empty {key}")
        if not any(len(LETTER.findall(norm(f))) >= 3 for f in e.get("ar", [])):
            problems.append(f"{e['en']}: no Arabic form with 3+ letters")
        for f in e.get("ar", []):
            owners.setdefault(" ".join(form_words(f)), set()).add(e["en"])
    amb = {e["en"] for e in entries if e.get("ambiguous")}
    for key, names in sorted(owners.items()):
        clear = sorted(names - amb)
        if len(clear) > 1:
            problems.append(f"Arabic form {key!r} shared by non-ambiguous entries {clear}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--matches", action="store_true")
    args = ap.parse_args()
    entries = tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))["terms"]
    problems = validate(entries)
    print(f"entries: {len(entries)}")
    print("kinds:", dict(Counter(e["kind"] for e in entries)))
    print("sources:", dict(Counter(e["source"] for e in entries)))
    print("ambiguous:", sum(1 for e in entries if e.get("ambiguous")))
    for p in problems:
        print("PROBLEM:", p)
    print(f"validation: {'OK' if not problems else f'{len(problems)} problem(s)'}")

    by_en = {e["en"]: e for e in entries}
    gaps = 0
    for path in sorted(SAMPLES.glob("*.txt")):
        key = path.name[:3]
        text = path.read_text(encoding="utf-8")
        print(f"\n== {path.name}")
        for surface, want in SAMPLE_ENTITIES.get(key, []):
            if norm(surface) not in norm(text):
                print(f"  GAP (not in text, fix the list): {surface}")
                gaps += 1
                continue
            hit = find([by_en[want]], surface) if want in by_en else {}
            status = "ok " if hit else "GAP"
            if not hit:
                gaps += 1
            print(f"  {status} {surface} -> {want}")
        if args.matches:
            for en, forms in sorted(find(entries, text).items()):
                print(f"    match: {en} <- {', '.join(sorted(set(forms)))}")
    print(f"\ncoverage: {'OK' if not gaps else f'{gaps} gap(s)'}")
    return 1 if problems or gaps else 0


if __name__ == "__main__":
    sys.exit(main())
