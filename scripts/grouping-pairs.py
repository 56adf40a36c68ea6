#!/usr/bin/env python3
"""Draw the candidate article pairs behind benches/data/grouping-pairs.tsv, for labelling by hand.

Reads one day of SaudiNewsNet (the JSON array inside dataset/2015-07-21.zip of
github.com/parallelfold/SaudiNewsNet, CC BY-NC-SA 4.0) and writes JSON Lines of pairs with their
titles and leads, for a person to label "same event" or not. The score used to draw them is a
plain TF-IDF over the title and first 600 characters, independent of tarjim's grouping, and is
used only to spread the draw over four bands (so both wire copy and hard negatives are present);
the labeller never sees it. The random seed is fixed, so the same pairs come out again.

    scripts/grouping-pairs.py 2015-07-21.json > to_label.jsonl
"""

import collections
import json
import math
import random
import re
import sys

STOP = set(
    "في من على الى إلى عن ان أن التي الذي مع هذا هذه كان قال وقال بين بعد قبل حيث كما او أو لا ما "
    "تم الله عام خلال ذلك اليوم".split()
)
BANDS = {"high": (0.45, 9.0, 90), "mid": (0.25, 0.45, 100), "low": (0.12, 0.25, 80), "faint": (0.03, 0.12, 50)}


def stem(word):
    word = re.sub("[\u064B-\u065F\u0640]", "", word)
    word = re.sub("[أإآ]", "ا", word).replace("ة", "ه").replace("ى", "ي")
    for prefix in ["وال", "بال", "فال", "لل", "ال", "و", "ب", "ل"]:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix):]
    return word


def main(path):
    random.seed(20261206)
    night = json.load(open(path, encoding="utf-8"))
    docs = []
    for article in night:
        text = article["title"] + " " + article["content"][:600]
        words = [stem(w) for w in re.findall("[\u0621-\u064A]+", text) if w not in STOP]
        docs.append([w for w in words if len(w) >= 3])
    df = collections.Counter(w for d in docs for w in set(d))
    n = len(docs)
    vectors = []
    for d in docs:
        v = {w: (1 + math.log(c)) * math.log((1 + n) / (1 + df[w])) for w, c in collections.Counter(d).items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1
        vectors.append({w: x / norm for w, x in v.items()})
    postings = collections.defaultdict(list)
    for i, v in enumerate(vectors):
        for w in v:
            postings[w].append(i)
    scores = {}
    for i, v in enumerate(vectors):
        acc = collections.defaultdict(float)
        for w, x in v.items():
            if df[w] <= 300:
                for j in postings[w]:
                    if j > i:
                        acc[j] += x * vectors[j][w]
        scores.update({(i, j): s for j, s in acc.items() if s > 0.03})

    def usable(i, j):
        a, b = night[i]["content"], night[j]["content"]
        return len(a) > 100 and len(b) > 100 and a[:200] != b[:200]

    chosen = []
    for band, (low, high, count) in BANDS.items():
        pool = [p for p, s in scores.items() if low <= s < high and usable(*p)]
        random.shuffle(pool)
        chosen += [(band, p) for p in pool[:count]]
    for number, (band, (i, j)) in enumerate(chosen):
        a, b = night[i], night[j]
        print(json.dumps({
            "pair": number, "bucket": band, "a": i, "b": j,
            "a_source": a["source"], "b_source": b["source"], "a_url": a["url"], "b_url": b["url"],
            "a_title": a["title"], "b_title": b["title"],
            "a_lead": a["content"][:450], "b_lead": b["content"][:450],
        }, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
