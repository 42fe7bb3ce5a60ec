#!/usr/bin/env python3
"""Drives the emulator's dashboard in headless Chromium (Debian's chromium and
chromium-driver, through selenium): triggers a run from the form, watches its page turn from
IN_PROGRESS to SUCCESS without a reload while this script reports the run through Port's API
as a consumer would, then opens the run from the runs table. Saves a screenshot.

Usage: dashboard_check.py BASE_URL SCREENSHOT_PATH
Prints one line per step; exits non-zero with the reason on the first failure.
"""
import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, SCREENSHOT = sys.argv[1].rstrip("/"), sys.argv[2]


def api(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def step(text):
    print(text, flush=True)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30, poll_frequency=0.1)
try:
    started = time.time()
    driver.get(BASE + "/#/trigger")
    step(f"page loaded in {time.time() - started:.2f}s")
    driver.execute_script("window.__noReload = 'still the same page'")

    wait.until(lambda d: d.find_elements(By.ID, "action"))
    Select(driver.find_element(By.ID, "action")).select_by_value("create_vm")
    wait.until(lambda d: d.find_elements(By.ID, "input-name"))
    labels = driver.find_element(By.ID, "fields").text
    assert "Name *" in labels and "vCPUs *" in labels, f"required inputs are not marked: {labels!r}"
    cpu_choices = [o.text for o in Select(driver.find_element(By.ID, "input-cpu")).options]
    assert cpu_choices == ["1", "2", "4", "8"], f"the cpu enum is not a select of its values: {cpu_choices}"
    step("form built from userInputs: required marked, enum as a select")
    driver.find_element(By.ID, "input-name").send_keys("dashboard-vm")
    Select(driver.find_element(By.ID, "input-cpu")).select_by_visible_text("4")
    driver.find_element(By.ID, "submit").click()

    wait.until(lambda d: d.current_url.split("#")[-1].startswith("/runs/r_"))
    run_id = driver.current_url.split("/runs/")[-1]
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#main h2 .status[data-status='IN_PROGRESS']"))
    step(f"triggered {run_id} from the form; its page shows IN_PROGRESS")
    # A consumer acts once the invocation is on Kafka: the page shows it when published.
    message = json.loads(wait.until(lambda d: d.find_elements(By.ID, "kafka-message"))[0].text)
    assert message["payload"]["properties"]["name"] == "dashboard-vm", f"unexpected Kafka message {message}"
    assert message["payload"]["properties"]["cpu"] == 4, f"unexpected Kafka message {message}"
    step("the page shows the Kafka message as published")

    token = api("POST", "/v1/auth/access_token", {"clientId": "emulator-client-id", "clientSecret": "emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"})["accessToken"]
    api("POST", f"/v1/actions/runs/{run_id}/logs", {"message": "provisioning dashboard-vm"}, token)
    api("PATCH", f"/v1/actions/runs/{run_id}", {"status": "SUCCESS", "link": ["https://cloud.example.com/vms/dashboard-vm"], "summary": "dashboard-vm is up"}, token)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#main h2 .status[data-status='SUCCESS']"))
    assert driver.execute_script("return window.__noReload") == "still the same page", "the page was reloaded"
    logs = driver.find_element(By.ID, "logs").text
    assert "provisioning dashboard-vm" in logs, f"the log is not on the timeline: {logs!r}"
    journal = driver.find_element(By.ID, "journal").text
    assert f"PATCH /v1/actions/runs/{run_id}" in journal, f"the PATCH is not in the journal: {journal!r}"
    step("without a reload, the page turned to SUCCESS with the log and the journal")

    driver.find_element(By.ID, "nav-runs").click()
    refusals = wait.until(lambda d: d.find_elements(By.ID, "kafka-refusals"))[0].text
    assert "Produce topic:" in refusals and "TOPIC_AUTHORIZATION_FAILED" in refusals, f"refusals: {refusals!r}"
    assert "no Write on any topic" in refusals, f"refusals: {refusals!r}"
    step("the runs page lists the Kafka produce Port's ACLs refused")

    def open_row(d):
        try:
            rows = d.find_elements(By.CSS_SELECTOR, f"tr.run[data-run='{run_id}']")
            if not rows or "SUCCESS" not in rows[0].text:
                return False
            rows[0].click()
            return True
        except StaleElementReferenceException:  # re-rendered between find and click
            return False

    wait.until(open_row)
    wait.until(lambda d: d.current_url.endswith(run_id) and d.find_elements(By.ID, "run-summary"))
    assert "dashboard-vm is up" in driver.find_element(By.ID, "run-summary").text
    step("opened the run from the runs table")

    # A microservice with a region fires the announce_microservice fixture automation.
    api("POST", "/v1/blueprints/microservice/entities", {"identifier": "dash-svc", "properties": {"region": "eu-west-1"}}, token)
    driver.find_element(By.ID, "nav-automations").click()
    table = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#automations tr[data-automation='announce_microservice']"))[0].text
    assert "ENTITY_CREATED on microservice" in table and ".diff.after.properties.region != null" in table, f"automation row: {table!r}"
    links = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#firings a.firing-run"))
    firing_run = links[0].text
    assert firing_run.startswith("r_"), f"firing run: {firing_run!r}"
    step("the automations page lists the automations and the run one fired")
    links[0].click()
    fired_by = wait.until(lambda d: d.find_elements(By.ID, "fired-by"))[0].text
    assert '"action": "CREATE"' in fired_by, f"fired-by card: {fired_by!r}"
    assert '"entityIdentifier": "dash-svc"' in fired_by, f"fired-by card: {fired_by!r}"
    step("the automation's run shows the event that fired it")

    # Polling: the organization switches, a run is claimed and acked; its page shows who took it.
    api("PATCH", "/v1/organization", {"settings": {"portAgentStreamerName": "POLLING"}}, token)
    polled = api("POST", "/v1/actions/create_vm/runs", {"properties": {"name": "polled-vm", "cpu": 2}}, token)["run"]["id"]

    def reserved(method, path, body):
        request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode())
        for name, value in [("Content-Type", "application/json"), ("Authorization", "Bearer " + token), ("x-port-reserved-usage", "true")]:
            request.add_header(name, value)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    claimed = reserved("POST", "/v1/actions/runs/claim-pending", {"installationId": "dash-agent", "limit": 5})["runs"]
    assert [run["id"] for run in claimed] == [polled], f"claimed {claimed}"
    reserved("PATCH", "/v1/actions/runs/ack", {"runIds": [polled]})
    driver.get(BASE + "/#/runs/" + polled)
    card = wait.until(lambda d: d.find_elements(By.ID, "polling") and "acked by" in d.find_element(By.ID, "polling").text and d.find_element(By.ID, "polling"))
    assert "installation dash-agent" in card.text, f"polling card: {card.text!r}"
    step("a polled run's page shows its claim and ack")
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
