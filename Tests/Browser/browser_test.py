#!/usr/bin/env python3
"""Real-browser test of gar serve's web page (issue 14), driven by Playwright through Debian's
headless Chromium (no browser download): open the page, choose the sample clip, draw a box, see
the mask overlay, track (progress, filmstrip, timeline), ask and see the answer stream in, then
the final answer. Saves a screenshot after each step. Run by Tests/Browser/run.sh."""
import argparse
import pathlib
import sys
import time

from playwright.sync_api import sync_playwright

# Counts overlay pixels of a mask (drawn with alpha 120; box strokes are opaque).
MASK_PIXELS = """() => {
  const c = document.getElementById('overlay');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] >= 110 && d[i] <= 130) n++;
  return n;
}"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True, help="folder for screenshots")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--clip", default="ball.mp4")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    def step(msg):
        print(f"browser: {time.time() - t0:5.1f} s  {msg}", flush=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(60_000)
        page.goto(args.url)
        page.wait_for_function("document.getElementById('media').options.length > 0")
        page.select_option("#media", args.clip)
        page.click("#open")
        page.wait_for_function("document.getElementById('facts').textContent.includes('frames')")
        page.wait_for_function("document.getElementById('frame').naturalWidth > 0")
        step("video open: " + page.text_content("#facts"))

        # Draw a box around the ball (frame 0 of ball.mp4, 640x360: the ball is at about 40..125, 140..225).
        box = page.locator("#overlay").bounding_box()
        facts = page.text_content("#facts")
        vw, vh = [int(v) for v in facts.split(": ")[1].split(",")[0].split("×")]

        def at(x, y):
            return box["x"] + x / vw * box["width"], box["y"] + y / vh * box["height"]

        page.mouse.move(*at(36, 136))
        page.mouse.down()
        page.mouse.move(*at(80, 180), steps=4)
        page.mouse.move(*at(127, 227), steps=4)
        page.mouse.up()
        page.wait_for_function(f"({MASK_PIXELS})() > 2000")
        assert page.locator("[data-testid=chip]").count() == 1, "one region chip"
        page.screenshot(path=str(out / "1-mask.png"))
        step(f"mask overlaid: {page.evaluate(MASK_PIXELS)} pixels")

        # Track 10 frames: progress, then the filmstrip and the visibility timeline.
        page.fill("#nframes", "10")
        page.click("#track")
        page.wait_for_function("document.getElementById('jobstate').textContent.startsWith('done')", timeout=120_000)
        page.wait_for_function("document.querySelectorAll('#timeline td').length > 0")
        cells = page.locator("#timeline td").count()
        assert cells >= 10, f"timeline has {cells} cells, expected 10 tracked frames (+ the prompted one)"
        page.screenshot(path=str(out / "2-track.png"))
        step(f"tracked: {page.locator('#film canvas').count()} filmstrip frames, {cells} timeline cells")

        # Ask; record the answer's text length at each change while the final answer is not there.
        page.fill("#question", "What is <Prompt0> doing?")
        page.fill("#maxtok", "200")
        page.evaluate("""() => { window.__lens = []; const a = document.getElementById('answer');
          new MutationObserver(() => { if (document.getElementById('done').hidden) window.__lens.push(a.textContent.length); })
            .observe(a, {childList: true, characterData: true, subtree: true}); }""")
        page.click("#ask")
        page.wait_for_selector("#done:not([hidden])", timeout=120_000)
        lens = page.evaluate("window.__lens")
        pieces = int(page.get_attribute("#answer", "data-pieces") or 0)
        answer = page.text_content("#answer")
        status = page.text_content("#status")
        assert not status, f"error shown: {status}"
        assert pieces >= 10, f"the answer did not come as a stream of pieces ({pieces} token events)"
        assert lens and max(lens) > 0, f"no text shown before the final answer (lengths seen: {lens})"
        assert answer, "empty final answer"
        assert not page.is_disabled("#download"), "download enabled after the answer"
        page.screenshot(path=str(out / "3-answer.png"))
        step(f"answer streamed: {pieces} token events, {len(lens)} updates before the final answer: {answer[:60]!r}")
        assert not errors, f"page errors: {errors}"
        browser.close()
    step("ok")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"browser test FAILED: {e}", file=sys.stderr)
        sys.exit(1)
