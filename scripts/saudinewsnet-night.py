#!/usr/bin/env python3
"""One night of SaudiNewsNet as tarjim JSON Lines, for benchmarks.

SaudiNewsNet (github.com/parallelfold/SaudiNewsNet, CC BY-NC-SA 4.0) holds one zip of JSON per
day of Saudi Arabic news. Its text must not be committed here; this script turns a day's zip
into the JSONL that `tarjim run` reads (text, title, source, url, published), e.g.

    git -C SaudiNewsNet show HEAD:dataset/2015-07-21.zip > 2015-07-21.zip
    scripts/saudinewsnet-night.py 2015-07-21.zip > night.jsonl
"""

import json
import sys
import zipfile


def main(path: str) -> None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            for item in json.loads(archive.read(name)):
                record = {
                    "text": item.get("content", ""),
                    "title": item.get("title"),
                    "source": item.get("source"),
                    "url": item.get("url"),
                    "published": item.get("date_extracted"),
                }
                print(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
