"""Synchronous APIs: moderation, AI text, writing feedback, image plagiarism and AI image detection."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw

from airflow_copyleaks.testing.emulator import EmulatorClient
from tests.emulator.conftest import Api

HUMAN = (
    "Yesterday the ferry was late again, so I walked along the pier and counted gulls. Seven! A fisherman "
    "told me about the winter of 1987, when ice closed the harbour for a fortnight and everyone burned "
    "driftwood. Was he exaggerating? Probably. Still, his stories beat waiting in the cold ticket hall, "
    "where the vending machine only sells cocoa that tastes faintly of cardboard and regret."
)
AI = " ".join(
    f"The system provides a good solution for the user. The system provides a good result for the team {i}."
    for i in range(8)
)


def test_text_moderation_offsets(api: Api, emu: EmulatorClient) -> None:
    text = "You are an idiot and I will sell you cocaine. Also, malware is everywhere; what an IDIOT."
    labels = [{"id": "toxic-v1"}, {"id": "drugs-v1"}, {"id": "cybersecurity-v1"}, {"id": "adult-v1"}]
    resp = api.call("POST", "/v1/text-moderation/mod-1/check", json={"text": text, "labels": labels})
    assert resp.status_code == 200
    body = resp.json()
    chars = body["moderations"]["text"]["chars"]
    legend = {entry["index"]: entry["id"] for entry in body["legend"]}
    flagged = [
        (text[s : s + n].lower(), legend[lab])
        for lab, s, n in zip(chars["labels"], chars["starts"], chars["lengths"], strict=True)
    ]
    assert flagged == [
        ("idiot", "toxic-v1"),
        ("cocaine", "drugs-v1"),
        ("malware", "cybersecurity-v1"),
        ("idiot", "toxic-v1"),
    ]
    assert body["scannedDocument"]["actualCredits"] == 1 and emu.stats()["credits_used"] == 1
    bad = api.call("POST", "/v1/text-moderation/mod-2/check", json={"text": text, "labels": [{"id": "EXAMPLE-v1"}]})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [{"param": "labels", "message": "Id Label EXAMPLE-v1 is not supported"}]
    assert (
        api.call("POST", "/v1/text-moderation/mod-1/check", json={"text": text, "labels": labels}).status_code == 409
    )  # id already used
    assert (
        api.call("POST", "/v1/text-moderation/mod-3/check", json={"text": text, "labels": labels * 9}).status_code
        == 400
    )  # 36 labels > 32


def test_writer_detector(api: Api) -> None:
    human = api.call("POST", "/v2/writer-detector/ai-1/check", json={"text": HUMAN}).json()
    assert human["summary"] == {"human": 1.0, "ai": 0.0} and human["results"][0]["classification"] == 1
    ai = api.call("POST", "/v2/writer-detector/ai-2/check", json={"text": AI, "explain": True}).json()
    assert ai["summary"]["ai"] == 1.0 and ai["results"][0]["classification"] == 2
    assert ai["explain"]["patterns"]["text"]["chars"]["starts"]
    assert ai["scannedDocument"]["totalWords"] == len(AI.split())
    short = api.call("POST", "/v2/writer-detector/ai-3/check", json={"text": "too short"})
    assert short.status_code == 400 and short.json()["error"]["details"][0]["param"] == "text"


def test_writing_feedback(api: Api) -> None:
    text = "this is is a sentence  with teh mistakes. Another one follows."
    body = api.call("POST", "/v1/writing-feedback/wf-1/check", json={"text": text}).json()
    chars = body["corrections"]["text"]["chars"]
    rows = zip(chars["starts"], chars["lengths"], chars["operationTexts"], strict=True)
    fixes = {(text[s : s + n], op) for s, n, op in rows}
    assert {("this", "This"), ("is is", "is"), ("  ", " "), ("teh", "the")} <= fixes
    corr = body["score"]["corrections"]
    assert corr["mechanicsCorrectionsCount"] == 3 and corr["grammarCorrectionsCount"] == 1
    assert 0 <= corr["overallScore"] < 100 and body["score"]["statistics"]["sentenceCount"] == 2


def test_sandbox_and_credits(api: Api, emu: EmulatorClient) -> None:
    labels = [{"id": "toxic-v1"}]
    body = api.call(
        "POST",
        "/v1/text-moderation/sb-1/check",
        json={"text": "perfectly fine words", "labels": labels, "sandbox": True},
    ).json()
    assert body["moderations"]["text"]["chars"]["starts"] == [0] and body["scannedDocument"]["actualCredits"] == 0
    assert (
        api.call("POST", "/v2/writer-detector/sb-2/check", json={"text": HUMAN, "sandbox": True}).json()["summary"][
            "ai"
        ]
        == 1.0
    )
    assert emu.stats()["credits_used"] == 0
    emu.set_config(credits=0)
    resp = api.call("POST", "/v1/text-moderation/sb-3/check", json={"text": "hello", "labels": labels})
    assert resp.status_code == 402 and resp.json()["error"]["type"] == "payment_error"
    # A failed call does not consume the id.
    emu.set_config(credits=5)
    assert (
        api.call("POST", "/v1/text-moderation/sb-3/check", json={"text": "hello", "labels": labels}).status_code == 200
    )


def _picture(size: tuple[int, int] = (320, 240)) -> Image.Image:
    img = Image.new("RGB", size, (30, 60, 90))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w * 0.1, h * 0.1, w * 0.6, h * 0.7), fill=(240, 200, 40))
    draw.rectangle((w * 0.55, h * 0.4, w * 0.95, h * 0.95), fill=(200, 30, 60))
    draw.line((0, h, w, 0), fill=(255, 255, 255), width=max(2, w // 40))
    return img


def _encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def test_image_plagiarism_full_and_partial(api: Api, emu: EmulatorClient) -> None:
    original = _encode(_picture())
    emu.add_image("https://example-news.test/img/photo.png", original, pages=["https://example-news.test/post"])
    emu.add_image("https://example-news.test/img/other.png", _encode(Image.new("RGB", (300, 300), "green")))

    def check(scan_id: str, data: bytes, filename: str) -> dict[str, object]:
        resp = api.call(
            "POST",
            f"/v1/image-plagiarism-detector/{scan_id}/check",
            files={"image": (filename, data)},
            data={"filename": filename, "developerPayload": "dp"},
        )
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    full = check("img-1", original, "a.png")
    assert full["matches"] == {
        "internet": [
            {
                "url": "https://example-news.test/img/photo.png",
                "matchType": 0,
                "webPages": [{"url": "https://example-news.test/post"}],
            }
        ],
        "score": {"totalMatches": 1, "fullMatches": 1, "partialMatches": 0},
    }
    assert full["developerPayload"] == "dp" and full["scannedImage"]["width"] == 320
    resized = _encode(_picture().resize((160, 120)).convert("RGB"), "JPEG")
    partial = check("img-2", resized, "small.jpg")
    assert partial["matches"]["internet"][0]["matchType"] == 1
    assert partial["matches"]["score"] == {"totalMatches": 1, "fullMatches": 0, "partialMatches": 1}
    unrelated = check("img-3", _encode(Image.new("RGB", (100, 100), "white")), "w.png")
    assert unrelated["matches"]["internet"] == []
    bad = api.call(
        "POST",
        "/v1/image-plagiarism-detector/img-4/check",
        files={"image": ("a.txt", b"text")},
        data={"filename": "a.txt"},
    )
    assert bad.status_code == 400


def test_ai_image_detector_json_and_multipart(api: Api) -> None:
    smooth = _encode(Image.new("RGB", (512, 512), (120, 130, 140)))
    resp = api.call(
        "POST",
        "/v1/ai-image-detector/aiimg-1/check",
        json={"base64": base64.b64encode(smooth).decode(), "fileName": "s.png", "model": "ai-image-1-ultra"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["summary"]["ai"] == 1.0 and body["result"] == {"starts": [0], "lengths": [512 * 512]}
    assert body["imageInfo"]["shape"] == {"height": 512, "width": 512}
    noisy = Image.effect_noise((512, 512), 80).convert("RGB")
    resp = api.call(
        "POST",
        "/v1/ai-image-detector/aiimg-2/check",
        files={"image": ("n.png", _encode(noisy))},
        data={"filename": "n.png"},
    )
    assert resp.status_code == 200 and resp.json()["summary"]["human"] == 1.0
    tiny = base64.b64encode(_encode(Image.new("RGB", (64, 64)))).decode()
    small = api.call("POST", "/v1/ai-image-detector/aiimg-3/check", json={"base64": tiny, "filename": "x.png"})
    assert small.status_code == 400
