"""Builds the sample publishing archive in this folder: articles, comments, hero images.

Run once (``python dags/data/build_sample_data.py``); its output is committed. Deterministic: the
same script always writes the same files. Planted cases, for the example DAGs to find:

- articles a05, a12, a19, a26 copy three sentences verbatim from the emulator's "internet" corpus;
- articles a15, a22, a29 repeat most of earlier articles a02, a08, a10 (self-plagiarism, found
  because the sweep indexes the archive first);
- six comments are abusive (words the emulator's moderation lexicon flags);
- hero images of a07, a14, a21 are copies of registered "internet" images: exact, resized, and
  re-encoded as JPEG (listed in internet_images.json, which the demo registers with the emulator).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "airflow_copyleaks" / "testing" / "emulator" / "data" / "corpus.json"

SECTIONS = ["city", "science", "culture", "sport", "business"]
# Articles are written from templates with many slots, so that two clean articles rarely share a
# run of eight words (what the emulator counts as copying) while reading like local news.
TEMPLATES = [
    "{person}, a {role} from {place}, said the {project} would {verb} before {time}.",
    "About {number} {people} came to the {event} at the {venue} on {day}, more than the organisers expected.",
    "The {org} has asked {people} in {place} to {request} by the end of {month}.",
    "{person} pointed out that the {thing} near the {landmark} had not been {state} since {year}.",
    "If the {weather} holds, the {event} in {place} could {outcome} over the {period}.",
    "Critics in {place} argue that the {project} will cost {number} thousand pounds more than the {org} promised.",
    "On {day} the {org} will {verb} the {thing} beside the {landmark}, and {people} are welcome to watch.",
    "{person} believes the {event} shows how much {people} in {place} care about the {thing}.",
]
SLOTS: dict[str, list[str]] = {
    "person": [
        "Ines Moreau",
        "Callum Reid",
        "Hana Kowalski",
        "Olu Adeyemi",
        "Grete Holm",
        "Ravi Menon",
        "Lucia Ferri",
        "Dylan Price",
        "Mei Tanaka",
        "Kofi Mensah",
        "Astrid Berg",
        "Ewan Doyle",
        "Farah Haddad",
        "Nico Costa",
        "Tamsin Hale",
    ],
    "role": [
        "harbour pilot",
        "school governor",
        "retired surveyor",
        "market trader",
        "parish clerk",
        "bus driver",
        "head gardener",
        "youth worker",
        "librarian",
        "ferry engineer",
        "potter",
        "swimming coach",
        "beekeeper",
        "night nurse",
        "carpenter",
    ],
    "place": [
        "the mill quarter",
        "Saltmarsh Lane",
        "the upper town",
        "Kirkby Green",
        "the old docks",
        "Heron Point",
        "the station district",
        "Mossbank",
        "the east bank",
        "Fairholme",
        "Quarry Hill",
        "the river meadows",
        "Brackenfield",
        "the castle ward",
        "Northgate",
    ],
    "project": [
        "footbridge repair",
        "tram extension",
        "flood barrier",
        "cycle lane",
        "new library wing",
        "harbour dredging",
        "solar roof scheme",
        "market hall refit",
        "sea wall",
        "play park",
        "bus depot move",
        "allotment expansion",
        "chapel restoration",
        "skate park",
        "water main upgrade",
    ],
    "verb": [
        "open",
        "finish",
        "reopen",
        "start",
        "be inspected",
        "be approved",
        "go to tender",
        "be paid for",
        "be redesigned",
        "be extended",
        "be tested",
        "pass its survey",
        "welcome visitors",
        "close for a week",
        "be handed over",
    ],
    "time": [
        "the spring fair",
        "Easter",
        "the end of the school year",
        "the first frost",
        "midsummer",
        "the autumn half term",
        "the regatta",
        "the new year",
        "the council elections",
        "harvest",
        "the lantern parade",
        "the end of March",
        "the winter solstice",
        "May Day",
        "the carnival",
    ],
    "number": [
        "forty",
        "ninety",
        "two hundred",
        "three hundred",
        "sixty",
        "seventy",
        "a hundred and twenty",
        "eighty",
        "fifty",
        "five hundred",
        "thirty",
        "a thousand",
        "four hundred",
        "twenty",
        "six hundred",
    ],
    "people": [
        "residents",
        "pupils",
        "shop owners",
        "fishermen",
        "pensioners",
        "cyclists",
        "parents",
        "volunteers",
        "allotment holders",
        "students",
        "dog walkers",
        "commuters",
        "musicians",
        "rowers",
        "neighbours",
    ],
    "event": [
        "open day",
        "craft market",
        "charity run",
        "choir evening",
        "lantern walk",
        "harvest supper",
        "film night",
        "public meeting",
        "book swap",
        "boat race",
        "apple day",
        "quiz night",
        "litter pick",
        "folk concert",
        "science fair",
    ],
    "venue": [
        "town hall",
        "old granary",
        "leisure centre",
        "boat house",
        "corn exchange",
        "church hall",
        "railway arches",
        "school gym",
        "museum courtyard",
        "village green",
        "lifeboat station",
        "cricket pavilion",
        "art college",
        "fish market",
        "community barn",
    ],
    "day": [
        "Saturday",
        "Sunday afternoon",
        "Monday evening",
        "Tuesday",
        "Wednesday night",
        "Thursday",
        "Friday morning",
        "the bank holiday",
        "Saturday morning",
        "Sunday",
        "Friday",
        "Tuesday evening",
        "Thursday afternoon",
        "Wednesday",
        "Monday",
    ],
    "org": [
        "council",
        "harbour board",
        "rowing club",
        "civic society",
        "water company",
        "chamber of trade",
        "parish trust",
        "bus cooperative",
        "museum friends",
        "tenants' association",
        "school board",
        "wildlife trust",
        "fire service",
        "arts forum",
        "allotment society",
    ],
    "request": [
        "share their views",
        "report broken street lights",
        "join the clean-up",
        "register their bikes",
        "name the new ferry",
        "vote on the design",
        "lend old photographs",
        "check their smoke alarms",
        "plant a tree",
        "record bird sightings",
        "offer spare rooms",
        "sign the petition",
        "test their water",
        "volunteer as stewards",
        "fill in the survey",
    ],
    "month": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "the month",
        "the season",
        "the term",
    ],
    "thing": [
        "clock tower",
        "slipway",
        "bandstand",
        "drinking fountain",
        "war memorial",
        "tidal pool",
        "stone stile",
        "lych gate",
        "weather vane",
        "signal box",
        "horse trough",
        "rope walk",
        "ice house",
        "toll booth",
        "sundial",
    ],
    "landmark": [
        "ferry steps",
        "old mill",
        "lighthouse",
        "abbey ruins",
        "coal wharf",
        "east pier",
        "market cross",
        "viaduct",
        "water tower",
        "grammar school",
        "tannery",
        "salt store",
        "priory wall",
        "lock gates",
        "windmill",
    ],
    "state": [
        "painted",
        "repaired",
        "cleaned",
        "inspected",
        "insured",
        "lit at night",
        "mapped",
        "used",
        "photographed",
        "opened to the public",
        "listed",
        "fenced",
        "restored",
        "measured",
        "moved",
    ],
    "year": [
        "1962",
        "1974",
        "1981",
        "1990",
        "1999",
        "2003",
        "2008",
        "2011",
        "1955",
        "1968",
        "1987",
        "1995",
        "2001",
        "1949",
        "1977",
    ],
    "weather": [
        "dry spell",
        "mild weather",
        "calm sea",
        "cold snap",
        "sunshine",
        "west wind",
        "clear sky",
        "light breeze",
        "frost",
        "gentle rain",
        "fair weather",
        "high pressure",
        "settled weather",
        "autumn warmth",
        "still air",
    ],
    "outcome": [
        "draw record crowds",
        "raise enough money",
        "sell out",
        "run past midnight",
        "break even",
        "become a yearly fixture",
        "fill every stall",
        "attract visitors from afar",
        "move indoors",
        "double in size",
        "need more stewards",
        "end early",
        "go ahead as planned",
        "find new sponsors",
        "win a regional award",
    ],
    "period": [
        "weekend",
        "bank holiday",
        "half term",
        "coming fortnight",
        "next three days",
        "summer",
        "festival week",
        "holidays",
        "long weekend",
        "next month",
        "week",
        "autumn",
        "season",
        "winter",
        "spring",
    ],
}


def article_sentences(rng: random.Random, count: int) -> list[str]:
    templates = rng.sample(TEMPLATES, count)
    sentences = []
    for template in templates:
        fields = {slot: rng.choice(values) for slot, values in SLOTS.items()}
        sentence = template.format(**fields)
        sentences.append(sentence[0].upper() + sentence[1:])
    return sentences


AUTHORS = ["Maria Okafor", "Tom Lindqvist", "Priya Raman", "Jonas Becker", "Aoife Byrne", "Samuel Reyes"]
CLEAN_COMMENTS = [
    "Thanks for covering this, I had no idea the work was planned.",
    "Great piece. My grandfather used to work on that bridge.",
    "Does anyone know whether the changes apply at weekends too?",
    "I went last year and it was wonderful, highly recommended.",
    "Good to see the council listening to residents for once.",
    "Could you publish the timetable as well?",
    "Lovely photos, the harbour looks beautiful in autumn.",
    "I disagree with the decision but the article explains it fairly.",
    "Well written and balanced, thank you.",
    "Is there a way to volunteer for the next clean-up?",
]
ABUSIVE_COMMENTS = [
    "Only an idiot would vote for this, the whole council is pathetic.",
    "Shut up and stop writing about this, nobody likes you.",
    "People like that are subhuman and should go back to your country.",
    "If I see the author in town I will find you and beat you up.",
    "What a load of crap, damn this paper.",
    "Click here for cheap cocaine and a drug dealer near you.",
]


def front_matter(fields: dict[str, str]) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items()) + "---\n"


def build_images(rng: random.Random) -> None:
    from PIL import Image, ImageDraw

    images = HERE / "images"
    images.mkdir(exist_ok=True)

    def picture(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
        r = random.Random(seed)
        img = Image.new("RGB", size, tuple(r.randrange(40, 220) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x0, y0 = r.randrange(size[0]), r.randrange(size[1])
            x1, y1 = x0 + r.randrange(10, 50), y0 + r.randrange(8, 36)
            colour = tuple(r.randrange(256) for _ in range(3))
            (draw.ellipse if r.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
        return img

    manifest = []
    for n in range(1, 5):  # photos that exist "on the internet"
        name = f"internet_{n:02d}.png"
        picture(1000 + n).save(images / name)
        manifest.append(
            {
                "file": f"images/{name}",
                "url": f"https://photos.example-news.test/stock/{n:02d}.png",
                "pages": [f"https://example-news.test/gallery/{n:02d}"],
            }
        )
    for i in range(1, 31):
        target = images / f"hero_a{i:02d}.png"
        if i == 7:  # an exact copy
            picture(1001).save(target)
        elif i == 14:  # a resized copy
            picture(1002).resize((144, 96)).save(target)
        elif i == 21:  # a re-encoded copy
            target = images / f"hero_a{i:02d}.jpg"
            picture(1003).save(target, "JPEG", quality=80)
        else:
            picture(i).save(target)
    (HERE / "internet_images.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> None:
    rng = random.Random(20261121)
    corpus = json.loads(CORPUS.read_text())
    articles_dir = HERE / "articles"
    articles_dir.mkdir(exist_ok=True)
    start = datetime(2026, 11, 12, 6, 0, tzinfo=timezone.utc)
    bodies: dict[str, str] = {}
    corpus_copies = {5: 0, 12: 3, 19: 6, 26: 10}
    self_copies = {15: 2, 22: 8, 29: 10}
    for i in range(1, 31):
        article_id = f"a{i:02d}"
        section = SECTIONS[i % len(SECTIONS)]
        sentences = article_sentences(rng, 5)
        if i in corpus_copies:
            copied = corpus[corpus_copies[i]]["text"].split(". ")[:3]
            sentences = sentences[:2] + [s.rstrip(".") + "." for s in copied] + sentences[2:3]
        if i in self_copies:
            earlier = bodies[f"a{self_copies[i]:02d}"]
            body = earlier + "\n\n" + " ".join(sentences[:2])
        else:
            body = " ".join(sentences[:3]) + "\n\n" + " ".join(sentences[3:])
        bodies[article_id] = body
        published = start + timedelta(hours=8 * i + rng.randrange(0, 5))
        hero = f"images/hero_{article_id}.jpg" if i == 21 else f"images/hero_{article_id}.png"
        title = " ".join(sentences[0].split()[:9]).rstrip(",.")
        fields = {
            "id": article_id,
            "title": title,
            "author": AUTHORS[i % len(AUTHORS)],
            "section": section,
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "hero_image": hero,
        }
        (articles_dir / f"{article_id}.md").write_text(front_matter(fields) + "\n" + body + "\n")
    comments = []
    abusive_slots = {3, 9, 14, 20, 27, 33}
    abusive = iter(ABUSIVE_COMMENTS)
    for n in range(1, 37):
        article = f"a{(n % 30) + 1:02d}"
        text = next(abusive) if n in abusive_slots else CLEAN_COMMENTS[n % len(CLEAN_COMMENTS)]
        posted = start + timedelta(hours=6 * n + 1)
        comments.append(
            {
                "id": f"c{n:03d}",
                "article_id": article,
                "author": f"reader{n:03d}",
                "posted_at": posted.isoformat().replace("+00:00", "Z"),
                "text": text,
            }
        )
    (HERE / "comments.jsonl").write_text("".join(json.dumps(c) + "\n" for c in comments))
    build_images(rng)


if __name__ == "__main__":
    main()
