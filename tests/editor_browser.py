"""Headless Chromium driven by Selenium for the central's menu editor (Debian's chromium and
chromium-driver; ``./dev.sh setup`` installs them). ``Editor`` is a small page object: it
finds inputs by their ``data-path`` (the ids path of what they edit) and waits for the page
to answer, never for a fixed time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 20


def browser_or_skip():
    """A headless Chromium session, or skip the test when the browser is not installed."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium and chromium-driver are not installed (./dev.sh setup)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    return webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))


class Editor:
    """The editor page of one central in one browser."""

    def __init__(self, driver, url: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url, self.By = driver, url, By
        self.wait = WebDriverWait(driver, WAIT_S)

    def open(self, admin: str, token: str, english: bool = True) -> None:
        host = self.url.split("://", 1)[1]
        self.driver.get(f"http://{admin}:{token}@{host}/admin/menus/editor")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(f"http://{admin}:{token}@{host}/admin/menus/editor")
        self.type_into(self.find("#token"), token, enter=True)
        self.until(lambda d: not self.find("#bar").get_attribute("hidden"))
        if english and self.find("#lang").text == "English":
            self.click("#lang")

    def find(self, css: str):
        return self.driver.find_element(self.By.CSS_SELECTOR, css)

    def has(self, css: str) -> bool:
        return bool(self.driver.find_elements(self.By.CSS_SELECTOR, css))

    def click(self, css: str) -> None:
        self.until(lambda d: self.has(css))
        self.find(css).click()

    def click_id(self, element_id: str) -> None:
        self.until(lambda d: d.find_elements(self.By.ID, element_id))
        self.driver.find_element(self.By.ID, element_id).click()

    def field(self, *path: str):
        css = f'[data-path="{"/".join(path)}"]'
        self.until(lambda d: self.has(css))
        return self.find(css)

    def set(self, *path: str, value: str) -> None:
        """Type ``value`` into the input of ``path`` and leave it (Tab): one edit."""
        self.type_into(self.field(*path), value, tab=True)
        self.saved()

    def choose(self, *path: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.field(*path)).select_by_value(value)
        self.saved()

    def type_into(self, element, text: str, enter: bool = False, tab: bool = False) -> None:
        from selenium.webdriver.common.keys import Keys

        # Select and type over, as a person does: clear() would send a change of its own.
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(text + (Keys.ENTER if enter else "") + (Keys.TAB if tab else ""))

    def saved(self) -> None:
        """Wait until every edit sent has its answer."""
        self.until(lambda d: self.find("#draft-state").get_attribute("data-saving")
                   in ("Saved", "已保存", None) or self.visible("#notice"))

    def visible(self, css: str) -> bool:
        return self.has(css) and self.find(css).get_attribute("hidden") is None

    def problems(self) -> list[str]:
        return [li.text for li in self.driver.find_elements(self.By.CSS_SELECTOR,
                                                             "#problems li")]

    def until(self, condition, timeout: float = WAIT_S):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(condition)

    def screenshot(self, folder: str | None, name: str, top: str | None = None) -> None:
        """The whole page (or from element ``top`` down) as a PNG in ``folder``, if given."""
        if not folder:
            return
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1400, min(int(height) + 140, 3000))
        if top:
            self.driver.execute_script("arguments[0].scrollIntoView()", self.find(top))
        self.driver.save_screenshot(str(Path(folder) / name))
        self.driver.set_window_size(1400, 1000)
