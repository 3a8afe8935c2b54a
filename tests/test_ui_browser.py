"""One end-to-end pass in a real browser: `runelog ui` served, each page opened in headless Chromium.

Needs Debian's chromium and chromium-driver (`.ci/run` installs them); outside CI
the test is skipped with a message when they are absent.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import IN_CI
from .test_ui import store  # noqa: F401  (the populated store fixture)

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER):
    if IN_CI:
        raise RuntimeError("CI needs chromium and chromium-driver (apt-get install chromium chromium-driver)")
    pytest.skip("browser test skipped: install Debian's chromium and chromium-driver to run it",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(store, tmp_path):  # noqa: F811
    root, ids = store
    port = free_port()
    runelog = os.path.join(os.path.dirname(sys.executable), "runelog")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNELOG_")}
    server = subprocess.Popen([runelog, "--store", str(root), "ui", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"runelog ui did not start: {server.communicate()[1]}")
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}", ids
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1100", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def page_text(browser, url: str | None, expected: list[str], timeout: float = 45) -> str:
    """The page's text once every expected piece shows (url None: the page already open)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if url is not None:
        browser.get(url)
    WebDriverWait(browser, timeout).until(
        lambda d: all(text in d.find_element(By.TAG_NAME, "body").text for text in expected))
    return browser.find_element(By.TAG_NAME, "body").text


def choose_artifact(browser, name: str) -> None:
    """Pick `name` in the Run page's artifact box, as a person would: click, type, Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = browser.find_element(By.CSS_SELECTOR, 'input[aria-label^="Open an artifact"]')
    box.click()
    box.send_keys(name)
    box.send_keys(Keys.ENTER)


@pytest.mark.slow  # over 12 s: run by `make test-slow` (and CI)
def test_every_page_in_a_real_browser(served, browser, tmp_path):
    base, ids = served
    page_text(browser, f"{base}/?page=Experiments", ["Experiments", "Best value of metric"])
    runs = page_text(browser, f"{base}/?page=Runs", ["Runs", "Open a run", f"Open {ids['features1'][:8]}"])
    assert "features-v2" in runs
    browser.save_screenshot(str(tmp_path / "runs.png"))
    run = page_text(browser, f"{base}/?page=Run&run={ids['model2']}",
                    ["models / model-v2", "Lineage", f"Open feature-sets {ids['features2'][:8]}"])
    # Artifacts are listed from the metadata; one is read (hash checked) only once it is chosen.
    assert "Artifacts" in run and "Open an artifact" in run and "Download" not in run
    choose_artifact(browser, "model.joblib")
    page_text(browser, None, ["Download"])
    browser.save_screenshot(str(tmp_path / "run.png"))
    page_text(browser, f"{base}/?page=Registry", ["Registry", f"Open source run {ids['model2'][:8]}"])
    for shot in ("runs.png", "run.png"):
        assert (tmp_path / shot).stat().st_size > 10_000
    if os.environ.get("RUNELOG_SCREENSHOTS"):  # refresh the README's picture: RUNELOG_SCREENSHOTS=docs
        shutil.copy(tmp_path / "runs.png", os.path.join(os.environ["RUNELOG_SCREENSHOTS"], "ui-runs.png"))
