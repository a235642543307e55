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

SECTIONS: dict[str, list[str]] = {
    "city": [
        "The council voted on Tuesday to extend the evening bus service to the harbour district.",
        "Residents of the old mill quarter have asked for a pedestrian crossing near the primary school.",
        "A survey of shop owners found that most of them welcome the new loading bays on Market Street.",
        "The library will open on Sunday afternoons from next month, a change readers requested for years.",
        "Engineers expect the repairs to the stone bridge to finish before the first frost of winter.",
        "Volunteers planted two hundred bulbs along the canal path during the autumn clean-up weekend.",
        "The planning committee postponed its decision on the riverside flats until it hears from the ferry operators.",
        "Parents collected more than four thousand signatures for a safer route to the secondary school.",
        "The fire station on Hill Road celebrated its centenary with an open day and a brass band.",
        "City officials promised that the new recycling bins will be emptied twice a week in summer.",
    ],
    "science": [
        "A team at the regional university has mapped the tunnels that moles dig under a grazing meadow.",
        "The researchers used ground radar to avoid disturbing the animals during the breeding season.",
        "Their results suggest that the tunnels help rainwater soak into the soil after heavy storms.",
        "Students from three schools helped count the beetles trapped in small cups along the hedgerows.",
        "The observatory on the ridge will host a public night when the sky is dark enough to see nebulae.",
        "Chemists at the water works now test samples every hour instead of twice a day.",
        "The new microscope can photograph living cells without staining them first.",
        "A retired engineer built a weather station on his roof and shares the readings with the county.",
        "Biologists warned that the mild winter may wake hibernating bats before insects are about.",
        "The museum is asking readers to report sightings of the rare orange ladybird.",
    ],
    "culture": [
        "The community theatre opens its winter season with a comedy written by a local postman.",
        "Tickets for the folk festival sold out within an hour, a record for the small organising team.",
        "An exhibition of hand-printed maps fills the upper gallery of the town hall until January.",
        "The choir rehearses in the old chapel because its stone walls give the voices a warm echo.",
        "A poet who grew up above the bakery returned to read from her third collection.",
        "The film club will show silent comedies with a pianist improvising the music.",
        "Craft stalls along the quay sold woven baskets, carved spoons and knitted scarves.",
        "The archive digitised two thousand photographs of the fishing fleet from the last century.",
        "Young dancers from the academy performed a piece inspired by the migration of starlings.",
        "A string quartet gave a free concert in the waiting room of the railway station.",
    ],
    "sport": [
        "The rowing club won both of its races at the regatta despite a strong crosswind.",
        "Our under-twelve football team finished the season unbeaten for the first time.",
        "The cycling race will close the coast road for three hours on Saturday morning.",
        "A swimmer from the leisure centre qualified for the national championships in the relay.",
        "The cricket ground needs new drainage after the autumn floods left the outfield soaked.",
        "Volunteers repainted the changing rooms at the rugby club over two long weekends.",
        "The fell runners set off at dawn and climbed four summits before lunch.",
        "Netball coaches are looking for players of all ages for a new evening league.",
        "The bowls club opened its green to schoolchildren for a week of free lessons.",
        "Spectators braved the rain to watch the final of the county hockey cup.",
    ],
    "business": [
        "A family bakery has opened a second shop near the station to catch early commuters.",
        "The fishing cooperative agreed to sell part of its catch directly to local restaurants.",
        "Three start-ups moved into the converted warehouse that the council renovated last year.",
        "The market hall extended its opening hours after traders reported busier Saturdays.",
        "A furniture workshop is hiring apprentices to learn traditional joinery.",
        "The brewery switched to electric delivery vans for its rounds in the town centre.",
        "Shopkeepers say that the new parking charges have not reduced the number of visitors.",
        "The credit union reported that more young people opened savings accounts this autumn.",
        "A bookshop that nearly closed in spring now hosts weekly readings and sells out of tickets.",
        "The harbour authority plans to lease two empty sheds to boat builders.",
    ],
}
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
    section_names = list(SECTIONS)
    corpus_copies = {5: 0, 12: 3, 19: 6, 26: 10}
    self_copies = {15: 2, 22: 8, 29: 10}
    for i in range(1, 31):
        article_id = f"a{i:02d}"
        section = section_names[i % len(section_names)]
        sentences = rng.sample(SECTIONS[section], 5)
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
        title = sentences[0].split(",")[0].rstrip(".")[:70]
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
