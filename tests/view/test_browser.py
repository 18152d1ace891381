"""The gallery in a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``).

Loads the small run's gallery from file://, finds one card per pair, filters, opens a pair
page, plays its video and checks the browser logged no console error. With
``SCENMINE_DOCS_SCREENSHOT=1`` it also writes the README's screenshot (docs/viewer_pair.png).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "viewer_pair.png"


def _browser_binaries() -> tuple[str, str] | None:
    chrome = next(filter(None, (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install '.[dev]')")
    found = _browser_binaries()
    if found is None:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1100,1400",
                "--allow-file-access-from-files"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(found[1]))
    yield driver
    driver.quit()


def _visible_cards(driver) -> list:
    return [c for c in driver.find_elements("css selector", ".card") if c.is_displayed()]


def _console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_gallery_filters_opens_a_pair_and_plays_its_video(browser, small_view):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    index, v, views = small_view
    browser.get(index.as_uri())
    cards = _visible_cards(browser)
    assert len(cards) == len(views)
    assert {c.get_attribute("data-slug") for c in cards} == {p.slug for p in views}
    assert cards[0].get_attribute("data-slug") == views[0].slug          # worst first

    Select(browser.find_element("id", "outcome")).select_by_value("fp")
    with_fp = {p.slug for p in views if p.summary.get("fp")}
    assert {c.get_attribute("data-slug") for c in _visible_cards(browser)} == with_fp
    Select(browser.find_element("id", "outcome")).select_by_value("all")
    browser.find_element("id", "filter").send_keys(v["empty"].log_id[:8])
    same_log = {p.slug for p in views if p.log_id == v["empty"].log_id}
    assert {c.get_attribute("data-slug") for c in _visible_cards(browser)} == same_log
    assert browser.find_element("id", "count").text == f"{len(same_log)} of {len(views)} pairs"

    target = v["fp_and_miss"]
    browser.find_element("id", "filter").send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    assert len(_visible_cards(browser)) == len(views)
    browser.find_element("css selector", f'.card[data-slug="{target.slug}"]').click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith(f"pair-{target.slug}.html"))
    assert target.prompt in browser.find_element("tag name", "h2").text
    played = browser.execute_async_script("""
        const done = arguments[arguments.length - 1], video = document.querySelector("video.anim");
        video.play().then(() => setTimeout(() => done({t: video.currentTime, w: video.videoWidth,
            d: video.duration, err: video.error && video.error.code}), 700),
            (e) => done({err: String(e)}));""")
    assert played["err"] is None and played["t"] > 0 and played["w"] == 256, played
    assert played["d"] == pytest.approx(target.video_frames / 10, abs=0.2)
    assert not browser.find_element("css selector", "img.fallback").is_displayed()
    if os.environ.get("SCENMINE_DOCS_SCREENSHOT"):
        browser.execute_async_script("""
            const done = arguments[arguments.length - 1], video = document.querySelector("video.anim");
            video.pause(); video.addEventListener("seeked", () => done(), {once: true});
            video.currentTime = video.duration * 0.45;""")
        browser.set_window_size(780, 1000)
        browser.save_screenshot(str(SCREENSHOT))
        from PIL import Image  # small in the repository: a palette PNG
        Image.open(SCREENSHOT).convert("RGB").quantize(256, method=Image.Quantize.MAXCOVERAGE,
                                                       dither=Image.Dither.NONE).save(SCREENSHOT, optimize=True)
    assert _console_errors(browser) == []
