"""Self-check of world.py (run by hand; a few seconds plus the ffmpeg encodes):

    /work/venv/ref/bin/python tools/shapes/world_check.py

1. the default world is unchanged: `write_set` with the CI fixture's seed rewrites Tests/Fixtures/shapes-heldout
   byte for byte (set.json and every mp4);
2. event clips (make_event_clip, every kind): each event shows on the sampled frames (an occluded part, an empty
   mask while out of view, the overtaker passing, the width changing >= 1.5x, the outline turning), every object is
   visible on every other sampled frame, and every answer of event_questions agrees with the masks, recomputed here
   independently (boxes and areas of the masks);
3. every question and answer of the event world tokenizes with the fixture tokenizer (Tests/Fixtures/tokenizer)
   into known pieces that decode back to the same text;
4. a v2 set (write_event_set) has the documented fields, regions in range and letters among the options.
"""
import filecmp
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import world  # noqa: E402

FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "shapes-heldout")
CLIPS_PER_KIND = 12


def check_default_world(tmp):
    doc = json.load(open(os.path.join(FIXTURE, "set.json")))
    out = os.path.join(tmp, "default")
    world.write_set(out, len(doc["clips"]), doc["seed"])
    names = ["set.json"] + [c["file"] for c in doc["clips"]]
    same = [n for n in names if filecmp.cmp(os.path.join(out, n), os.path.join(FIXTURE, n), shallow=False)]
    assert same == names, f"default world changed: differs in {sorted(set(names) - set(same))}"
    print(f"default world: {len(names)} files identical to {os.path.relpath(FIXTURE, ROOT)}")


def letter_answer(q):
    """The option text of a multiple-choice answer ("(B) no" -> "no")."""
    return q["choices"]["ABCD".index(q["answer"])].split(") ", 1)[1]


def box_centre(mask):
    x1, y1, x2, y2 = world.box_of(mask)
    return (x1 + x2) / 2, (y1 + y2) / 2


def check_clip(c, kind):
    idx = world.sampled_frames()
    objs = c["objects"]
    first, last = idx[0], idx[-1]
    for o in objs:
        for t in idx:
            out = o["event"] == "leave" and t == o["turn"]
            assert o["masks"][t].any() != out, f"{kind}: visibility of {o['event']} at frame {t}"
    events = [o["event"] for o in objs]
    if kind == "occlude":
        back = objs[events.index("behind")]
        assert any((back["full"][t] & ~back["masks"][t]).sum() > 50 for t in idx), "occlude: nothing hidden"
    elif kind == "leave":
        assert "leave" in events
    elif kind in ("grow", "shrink"):
        o = objs[events.index(kind)]
        ratio = o["full"][last].sum() / o["full"][first].sum()
        assert (ratio >= 1.5 ** 2 * 0.8) if kind == "grow" else (ratio <= 1 / (1.5 ** 2 * 0.8)), f"{kind}: areas {ratio}"
        assert o["sizes"][-1] / o["sizes"][0] >= 1.5 or o["sizes"][0] / o["sizes"][-1] >= 1.5
    elif kind == "turn":
        o = objs[events.index("turn")]
        t = idx[1]
        plain = world.shape_mask(o["shape"], *o["centres"][t], o["sizes"][t])
        assert (plain ^ o["full"][t]).sum() > 40, "turn: the outline does not change"
    qs = world.event_questions(c)
    asked = {}
    for q in qs:
        asked.setdefault(q["kind"], []).append(q)
        assert all(0 <= r < len(objs) for r in q["regions"]) and len(set(q["regions"])) == len(q["regions"])
        assert ("<Prompt1>" in q["text"] or "<Prompt1>" in " ".join(q["choices"])) == (len(q["regions"]) == 2), q
        if not q["choices"]:
            continue
        assert q["answer"] in "ABCD"[:len(q["choices"])]
        value = letter_answer(q)
        a = objs[q["regions"][0]]
        if q["kind"] == "leave":
            assert (value == "yes") == any(not a["masks"][t].any() for t in idx)
        elif q["kind"] == "size":
            if a["event"] == "leave":   # partly out of view: its area says nothing about its size
                assert value == "keeps its size" and len(set(a["sizes"])) == 1
                continue
            ratio = a["full"][last].sum() / a["full"][first].sum()
            assert {"grows": ratio > 1.5, "shrinks": ratio < 1 / 1.5, "keeps its size": 0.8 < ratio < 1.25}[value], (value, ratio)
        elif q["kind"] == "turn":
            assert (value == "yes") == (a["angles"][last] != a["angles"][first])
        elif q["kind"] in ("relation_start", "relation_end"):
            t = first if q["kind"] == "relation_start" else last
            (ax, ay), (bx, by) = box_centre(a["masks"][t]), box_centre(objs[q["regions"][1]]["masks"][t])
            assert {"left": ax < bx, "right": ax > bx, "above": ay < by, "below": ay > by}[value], (q, ax, ay, bx, by)
        elif q["kind"] == "touch":
            b = objs[q["regions"][1]]
            near = [np.pad(a["full"][t], 1)[:-2, 1:-1] | np.pad(a["full"][t], 1)[2:, 1:-1] | a["full"][t] |
                    np.pad(a["full"][t], 1)[1:-1, :-2] | np.pad(a["full"][t], 1)[1:-1, 2:] for t in idx]
            assert (value == "yes") == any((n & b["full"][t]).any() for n, t in zip(near, idx))
        elif q["kind"] == "overtake":
            b = objs[q["regions"][1]]
            sign = world.DIRECTIONS[a["direction"]][0]
            lead = [sign * (box_centre(a["full"][t])[0] - box_centre(b["full"][t])[0]) for t in (first, last)]
            assert (value == "yes") == (lead[0] < 0 < lead[1]), (value, lead)
        elif q["kind"] in ("leave_first", "leave_last"):
            outs = [next(t for t in idx if not o["masks"][t].any()) for o in objs]
            early = int(np.argmin(outs))
            want = early if q["kind"] == "leave_first" else 1 - early
            assert value == f"<Prompt{want}>"
        elif q["kind"] in ("colour", "shape", "direction", "speed"):
            assert value == a[q["kind"]]
    captions = asked["caption"]
    assert len(captions) == len(objs)
    for q in captions:
        o = objs[q["regions"][0]]
        assert q["answer"].startswith(f"A {o['colour']} {o['shape']} moving {o['direction']} {o['speed']}")
        assert (q["answer"].count(",") == 1) == (o["event"] is not None)
    if kind == "overtake":
        assert sorted(letter_answer(q) for q in asked["overtake"]) == ["no", "yes"]
    if kind == "occlude":
        assert letter_answer(asked["touch"][0]) == "yes"
    return qs


def check_events():
    rng = np.random.default_rng(20261206)
    texts, kinds_asked = set(), {}
    for kind in world.EVENT_KINDS:
        for _ in range(CLIPS_PER_KIND):
            c = world.make_event_clip(rng, kind)
            for q in check_clip(c, kind):
                texts |= {q["question"], q["answer"]}
                kinds_asked[q["kind"]] = kinds_asked.get(q["kind"], 0) + 1
    print(f"event clips: {CLIPS_PER_KIND} per kind x {len(world.EVENT_KINDS)} kinds consistent; questions asked:",
          dict(sorted(kinds_asked.items())))
    return texts


def check_tokenizer(texts):
    try:
        from transformers import AutoTokenizer
    except ImportError:
        print("tokenizer: skipped (no transformers: run with /work/venv/ref/bin/python)")
        return
    tok = AutoTokenizer.from_pretrained(os.path.join(ROOT, "Tests", "Fixtures", "tokenizer"))
    for s in sorted(texts):
        ids = tok(s, add_special_tokens=False)["input_ids"]
        assert tok.unk_token_id is None or tok.unk_token_id not in ids, s
        assert tok.decode(ids) == s, s
    print(f"tokenizer: {len(texts)} distinct questions and answers round-trip through {len(tok)} tokens")


def check_v2_set(tmp):
    out = os.path.join(tmp, "events")
    world.write_event_set(out, len(world.EVENT_KINDS), 5)
    doc = json.load(open(os.path.join(out, "set.json")))
    assert doc["schema_version"] == 2 and doc["kinds"] == world.EVENT_KINDS
    for c in doc["clips"]:
        assert os.path.getsize(os.path.join(out, c["file"])) > 0
        for o in c["objects"]:
            assert o["prompt_frame"] in doc["sampled_frames"] and len(o["box"]) == 4
            assert o["boxes_sampled"][doc["sampled_frames"].index(o["prompt_frame"])] == o["box"]
        for q in c["questions"]:
            assert set(q) == {"regions", "kind", "question", "text", "choices", "answer"}
            assert all(0 <= r < len(c["objects"]) for r in q["regions"])
    print(f"v2 set: {len(doc['clips'])} clips, {sum(len(c['questions']) for c in doc['clips'])} questions")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_default_world(tmp)
        texts = check_events()
        check_tokenizer(texts)
        check_v2_set(tmp)
    print("ok")


if __name__ == "__main__":
    main()
