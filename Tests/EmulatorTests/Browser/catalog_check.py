#!/usr/bin/env python3
"""Drives the dashboard's catalog section in headless Chromium (Debian's chromium and
chromium-driver, through selenium). The Swift test has already created, through Port's API,
the blueprint `dash_service` (relation `dependsOn` to itself) with the entities `dash-api`
("Orders API", depending on `dash-db`) and `dash-db` ("Orders Database"). Checks the
blueprint's count, its entities with the related entity's title, a search by identifier,
and the 422 message of a malformed rule. Saves a screenshot of the catalog.

Usage: catalog_check.py BASE_URL SCREENSHOT_PATH
Prints one line per step; exits non-zero with the reason on the first failure.
"""
import json
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE, SCREENSHOT = sys.argv[1].rstrip("/"), sys.argv[2]


def step(text):
    print(text, flush=True)


def text_of(driver, selector):
    """The text of the first element matching the CSS selector, or None (also when it was
    replaced between the lookup and the read)."""
    try:
        found = driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else None
    except StaleElementReferenceException:
        return None


def search(driver, wait, query):
    """Replaces the search box's query with this JSON and submits it."""
    box = wait.until(lambda d: d.find_elements(By.ID, "search-query"))[0]
    box.clear()
    box.send_keys(json.dumps(query))
    driver.find_element(By.ID, "search-run").click()


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1400"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30, poll_frequency=0.1)
try:
    started = time.time()
    driver.get(BASE + "/")
    driver.find_element(By.ID, "nav-catalog").click()
    step(f"page loaded in {time.time() - started:.2f}s")

    row = "#blueprints tr[data-blueprint='dash_service']"
    wait.until(lambda d: text_of(d, row + " td.count") == "2")
    listed = text_of(driver, row)
    assert "Dash service" in listed and "dependsOn → dash_service" in listed, f"blueprint row: {listed!r}"
    others = [r.get_attribute("data-blueprint") for r in driver.find_elements(By.CSS_SELECTOR, "#blueprints tr.blueprint")]
    assert "microservice" in others, f"the fixtures' blueprints are not listed: {others}"
    step("the catalog lists dash_service with 2 entities and its relation")

    driver.find_element(By.CSS_SELECTOR, row + " a").click()
    wait.until(lambda d: d.current_url.endswith("#/catalog/dash_service"))
    api_row = "#catalog-entities tr[data-entity='dash-api']"
    wait.until(lambda d: text_of(d, api_row) is not None and text_of(d, "#catalog-entities tr[data-entity='dash-db']") is not None)
    listed = text_of(driver, api_row)
    relation = text_of(driver, api_row + " .relation[data-relation='dependsOn'] .related")
    assert relation == "Orders Database", f"the relation does not show the related entity's title: {relation!r} in {listed!r}"
    assert "Orders API" in listed and "tier: backend" in listed, f"entity row: {listed!r}"
    assert "Entities of Dash service" in text_of(driver, "#catalog-blueprint"), "the entities card is not titled"
    step("its entities list shows the related entity's title: Orders API dependsOn Orders Database")

    search(driver, wait, {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=", "value": "dash-db"}]})
    summary = wait.until(lambda d: (text_of(d, "#search-summary") or "").startswith("1 entity in ") and text_of(d, "#search-summary"))
    assert "dash_service" in summary, f"the matching blueprints leave dash_service out: {summary!r}"
    found = [r.get_attribute("data-entity") for r in driver.find_elements(By.CSS_SELECTOR, "#search-entities tbody tr")]
    assert found == ["dash-db"], f"the search found {found}"
    assert "Orders Database" in text_of(driver, "#search-entities"), "the match's title is not shown"
    assert text_of(driver, "#search-error") == "", "an error is shown after a successful search"
    step("a search for $identifier = dash-db shows exactly dash-db")

    search(driver, wait, {"combinator": "and", "rules": [{"property": "$identifier", "operator": "equals", "value": "dash-db"}]})
    problem = wait.until(lambda d: text_of(d, "#search-error") or None)
    assert problem.startswith("422 invalid_request"), f"the error does not name the status: {problem!r}"
    assert 'body.rules[0].operator "equals" is not one of' in problem, f"the emulator's message is not shown: {problem!r}"
    assert driver.find_element(By.ID, "search-error").is_displayed(), "the error box is hidden"
    assert not driver.find_elements(By.CSS_SELECTOR, "#search-entities"), "stale results are still shown next to the error"
    step(f"a malformed rule shows the 422 message: {problem.splitlines()[-1]}")

    driver.save_screenshot(SCREENSHOT)
    step(f"screenshot saved to {SCREENSHOT}")
except Exception as error:  # one line saying what failed, for the Swift test's message
    print(f"FAILED: {type(error).__name__}: {error}", flush=True)
    try:
        driver.save_screenshot(SCREENSHOT)
    except Exception:
        pass
    sys.exit(1)
finally:
    driver.quit()
