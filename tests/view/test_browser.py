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


RUN_ID = "0123456789abcdef0123456789abcdef"


class _ArtifactServer:
    """A stand-in for the MLflow UI's artifact view: a page that shows ``index.html`` as a blob:
    document in an iframe sandboxed to scripts (as MLflow 3 does) and a ``/get-artifact``
    endpoint that serves the run's files as attachments."""

    def __init__(self, site: Path):
        import http.server
        import mimetypes
        import threading
        import urllib.parse

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: bytes, ctype: str, extra: dict | None = None):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, val in (extra or {}).items():
                    self.send_header(k, val)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(url.query)
                if url.path == "/":
                    self._send(b"""<!doctype html><html><head><link rel="icon" href="data:,"></head>
<body><iframe id="art" sandbox="allow-scripts" style="width:1000px;height:1200px"></iframe>
<script>fetch("/index-source").then((r) => r.text()).then((t) => {
document.getElementById("art").src = URL.createObjectURL(new Blob([t], {type: "text/html"}));});
</script></body></html>""", "text/html")
                elif url.path == "/index-source":
                    self._send((site / "index.html").read_bytes(), "text/plain")
                elif url.path == "/get-artifact" and query.get("run_uuid") == [RUN_ID]:
                    rel = Path(query["path"][0]).relative_to("view")
                    path = site / rel
                    self._send(path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                               {"Content-Disposition": f"attachment; filename={path.name}"})
                else:
                    self.send_error(404)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_gallery_inside_mlflow_artifact_viewer(browser, small_view, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    from scenmine.view.pages import write_pages

    index, v, views = small_view
    site = tmp_path / "view"
    write_pages(views, site, "test", RUN_ID)
    (site / "media").symlink_to(index.parent / "media")
    with _ArtifactServer(site) as server:
        browser.get(server.url)
        frame = WebDriverWait(browser, 10).until(
            lambda d: d.execute_script("const f = document.getElementById('art'); "
                                       "return f.src.startsWith('blob:') && f"))
        browser.switch_to.frame(frame)
        WebDriverWait(browser, 10).until(lambda d: d.find_elements("css selector", ".card"))
        thumbs = [img.get_attribute("src") for img in browser.find_elements("css selector", ".card img")]
        assert len(thumbs) == len(views)
        assert all(t.startswith(f"{server.url}get-artifact?path=view%2Fmedia%2F") for t in thumbs)
        browser.find_element("css selector", f'.card[data-slug="{v["exact"].slug}"]').click()
        played = browser.execute_async_script("""
            const done = arguments[arguments.length - 1], video = document.querySelector("#modal video.anim");
            video.play().then(() => setTimeout(() => done({t: video.currentTime, src: video.currentSrc,
                hidden: video.hidden, fallback: !document.querySelector("#modal img.fallback").hidden}), 700),
                (e) => done({err: String(e)}));""")
        assert "err" not in played and played["t"] > 0, played
        assert played["src"].startswith(f"{server.url}get-artifact?path=view%2Fmedia%2F")
        assert not played["hidden"] and not played["fallback"]
        browser.switch_to.default_content()
        assert _console_errors(browser) == []
