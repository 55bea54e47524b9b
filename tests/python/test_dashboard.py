"""The dashboard: its queries on a published demo warehouse, its read-only
connection, its exposures, and every page in headless Chromium."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from helpers import BIN_DIR, Warehouse

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.dashboard import queries
from crm_analytics.dashboard.data import Filters, ServingFileMissing, connect, query
from crm_analytics.publish import publish

SCREENSHOT_DIR = PROJECT_DIR / "target" / "dashboard_screenshots"
APP = PROJECT_DIR / "src" / "crm_analytics" / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def serving_file(demo_warehouse: Warehouse, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serving") / "crm.duckdb"
    publish(demo_warehouse.path, path)
    return path


@pytest.fixture(scope="module")
def everything(serving_file: Path) -> Filters:
    start, end = queries.date_bounds(serving_file)
    return Filters(start=start, end=end)


def test_connection_is_read_only_and_cannot_reach_other_files(
    serving_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    with connect(serving_file) as connection:
        assert connection.sql("select count(*) from marts.dim_customers").fetchone()[0]
        # the tests run under TZ=Pacific/Auckland (helpers.py); the dashboard
        # reads in UTC, as the build does.
        zone = connection.sql("select current_setting('TimeZone')").fetchone()[0]
        assert zone == "UTC"
        for statement in (
            f"select * from read_csv('{other}')",
            f"attach '{tmp_path / 'x.duckdb'}' as x",
            f"copy marts.dim_products to '{tmp_path / 'out.csv'}'",
            "create table marts.scratch (a integer)",
            "set enable_external_access = true",
            "set TimeZone = 'Europe/Berlin'",
        ):
            with pytest.raises(duckdb.Error):
                connection.execute(statement)
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "x.duckdb").exists()


def test_the_serving_file_holds_no_zoned_timestamps(serving_file: Path) -> None:
    """Every timestamp is published as naive UTC, so a BI client's time zone
    cannot move a date (the README's BI section says so)."""
    zoned = query(
        serving_file,
        "select table_name, column_name from information_schema.columns "
        "where data_type ilike '%with time zone%'",
    )
    assert zoned.empty, zoned.to_dict("records")


def test_text_a_spreadsheet_would_run_is_escaped_in_tables(monkeypatch) -> None:
    """OWASP CSV injection: the tables' CSV download holds what is shown."""
    from streamlit.testing.v1 import AppTest

    from crm_analytics.dashboard.views import escape_formulas

    frame = pd.DataFrame(
        {
            "product_name": ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx",
                             "a=b", None, "plain"],
            "amount": [-1.0, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )  # fmt: skip
    escaped = escape_formulas(frame)
    assert escaped["product_name"].fillna("<missing>").tolist() == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "a=b", "<missing>",
        "plain",
    ]  # fmt: skip
    pd.testing.assert_series_equal(escaped["amount"], frame["amount"])
    assert frame["product_name"].iloc[0] == '=HYPERLINK("x")'  # a copy

    def page():
        import pandas as pd

        from crm_analytics.dashboard import views

        views.table(pd.DataFrame({"product_name": ["=1+1", "ok"]}))

    app = AppTest.from_function(page, default_timeout=60).run()
    assert not app.exception
    assert app.dataframe[0].value["product_name"].tolist() == ["'=1+1", "ok"]


def test_missing_serving_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ServingFileMissing, match="make build"):
        query(tmp_path / "crm.duckdb", "select 1")


def test_a_subset_of_all_customers_recomputes_the_marts_figures(
    serving_file: Path, everything: Filters
) -> None:
    segments, countries = queries.filter_options(serving_file)
    all_picked = Filters(
        everything.start, everything.end, tuple(segments), tuple(countries)
    )
    assert all_picked.is_customer_subset
    pd.testing.assert_frame_equal(
        queries.monthly_kpis(serving_file, all_picked),
        queries.monthly_kpis(serving_file, everything),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        queries.nps_monthly(serving_file, all_picked),
        queries.nps_monthly(serving_file, everything),
        check_dtype=False,
    )


def test_filters_narrow_to_the_chosen_customers(
    serving_file: Path, everything: Filters
) -> None:
    customers = query(
        serving_file,
        "select segment_name, country_code, rfm_segment, lifetime_net_revenue "
        "from marts.dim_customers",
    )
    segment = customers["segment_name"].dropna().value_counts().index[0]
    country = customers["country_code"].dropna().value_counts().index[0]
    chosen = Filters(everything.start, everything.end, (segment,), (country,))
    expected = (
        customers[
            (customers["segment_name"] == segment)
            & (customers["country_code"] == country)
        ]
        .groupby("rfm_segment")
        .size()
        .sort_index()
    )
    got = (
        queries.rfm_segments(serving_file, chosen)
        .set_index("rfm_segment")["count_customers"]
        .sort_index()
    )
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
    # A quote in a filter value is data, not SQL.
    odd = Filters(everything.start, everything.end, ("x' or '1'='1",), ())
    assert queries.rfm_segments(serving_file, odd).empty


def test_date_range_limits_the_months(serving_file: Path, everything: Filters) -> None:
    start = date(everything.end.year, 1, 1)
    window = Filters(start, everything.end)
    months = pd.to_datetime(queries.monthly_kpis(serving_file, window)["kpi_month"])
    assert months.min() == pd.Timestamp(start)
    assert len(months) == everything.end.month
    cohorts = queries.cohort_retention(serving_file, window)
    assert pd.to_datetime(cohorts["cohort_month"]).min() >= pd.Timestamp(start)


def test_churn_list_is_ordered_by_value_at_risk(
    serving_file: Path, everything: Filters
) -> None:
    at_risk = queries.churn_risk_list(serving_file, everything, limit=20)
    assert len(at_risk) == 20
    expected = at_risk["p_churn"] * at_risk["predicted_clv"].fillna(0)
    assert (at_risk["value_at_risk"] - expected).abs().max() < 1e-9
    assert at_risk["value_at_risk"].is_monotonic_decreasing


def test_anomalies_are_out_of_the_default_marketing_rankings(
    serving_file: Path, everything: Filters
) -> None:
    flagged = set(
        query(
            serving_file,
            "select customer_id from marts.fct_customer_anomalies where is_anomaly",
        )["customer_id"]
    )
    assert flagged
    for ranking in (queries.churn_risk_list, queries.top_clv_customers):
        default = ranking(serving_file, everything, limit=100_000)
        assert not default["is_anomaly"].any()
        assert not set(default["customer_id"]) & flagged
        shown = ranking(serving_file, everything, limit=100_000, include_anomalies=True)
        assert set(shown["customer_id"]) - set(default["customer_id"]) == (
            set(shown["customer_id"]) & flagged
        )
        assert shown["is_anomaly"].sum() == len(set(shown["customer_id"]) & flagged)
    # with them put back, the flagged buyers are in the CLV ranking: the
    # filter is what removes them
    shown = queries.top_clv_customers(
        serving_file, everything, limit=100_000, include_anomalies=True
    )
    assert shown["is_anomaly"].any()


def test_anomalies_page_lists_every_flagged_customer_with_its_evidence(
    serving_file: Path, everything: Filters
) -> None:
    listed = queries.anomalous_customers(serving_file, everything)
    flagged = query(
        serving_file,
        "select customer_id, anomaly_reasons from marts.fct_customer_anomalies "
        "where is_anomaly",
    )
    assert set(listed["customer_id"]) == set(flagged["customer_id"])
    assert listed["anomaly_reasons"].str.len().gt(0).all()
    assert (listed["next_best_action"] == "review_account").all()
    assert listed["anomaly_score"].is_monotonic_decreasing
    revenue = queries.anomaly_revenue(serving_file, everything)
    customers = query(
        serving_file,
        "select is_anomaly, lifetime_net_revenue from marts.dim_customers "
        "where customer_id in (select customer_id from marts.fct_customer_anomalies)",
    )
    expected = customers.groupby("is_anomaly")["lifetime_net_revenue"].sum()
    expected = float(expected[True] / expected.sum())
    got = revenue.loc[revenue["anomaly_kind"] != "not flagged", "pct_net_revenue"]
    assert float(got.sum()) == pytest.approx(expected)


def test_segment_revenue_leaves_out_the_anomalies(
    serving_file: Path, everything: Filters
) -> None:
    customers = query(
        serving_file,
        "select segment_name, is_anomaly, lifetime_net_revenue "
        "from marts.dim_customers where segment_name is not null",
    )
    expected = (
        customers.loc[~customers["is_anomaly"]]
        .groupby("segment_name")["lifetime_net_revenue"]
        .sum()
        .astype(float)
    )
    got = (
        queries.cluster_segments(serving_file, everything)
        .set_index("segment_name")["sum_lifetime_net_revenue"]
        .astype(float)
    )
    pd.testing.assert_series_equal(
        got.sort_index(),
        expected.reindex(got.index).fillna(0).sort_index(),
        check_names=False,
    )
    counts = customers.groupby("segment_name")["is_anomaly"].sum()
    profiles = queries.cluster_segments(serving_file, everything).set_index(
        "segment_name"
    )
    assert (profiles["count_anomalous_customers"] == counts[profiles.index]).all()


def _page_tables() -> dict[str, set[str]]:
    """The marts each page's queries name, read from the source."""
    from crm_analytics.dashboard import views

    def source(function, seen: set[str]) -> str:
        """The function's source and that of the views helpers it calls."""
        text = inspect.getsource(function)
        for name in re.findall(r"\b(_\w+)\(", text):
            helper = getattr(views, name, None)
            if inspect.isfunction(helper) and name not in seen:
                seen.add(name)
                text += source(helper, seen)
        return text

    tables = {}
    for page in views.PAGES:
        called = re.findall(r'load\(\s*"(\w+)"', source(page.render, set()))
        sql = "".join(inspect.getsource(getattr(queries, name)) for name in called)
        tables[page.url_path] = set(re.findall(r"marts\.(\w+)", sql))
    return tables


#: page -> (model_name, the label its message uses) of the models it shows.
PAGE_MODELS = {
    "segments": [("segmentation", "segmentation model")],
    "churn": [("churn", "churn model")],
    "products": [
        ("associations", "association model"),
        ("recommendations", "recommendation model"),
    ],
    "anomalies": [("anomalies", "anomaly model")],
}


def _render_page(url_path: str, serving: Path, monkeypatch) -> object:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CRM_TEST_SERVING", str(serving))
    monkeypatch.setenv("CRM_TEST_PAGE", url_path)

    def page():
        import os
        from datetime import date
        from pathlib import Path

        from crm_analytics.dashboard import views

        render = next(
            p.render for p in views.PAGES if p.url_path == os.environ["CRM_TEST_PAGE"]
        )
        render(
            Path(os.environ["CRM_TEST_SERVING"]),
            views.Filters(start=date(2000, 1, 1), end=date(2100, 1, 1)),
        )

    app = AppTest.from_function(page, default_timeout=60).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("url_path", sorted(PAGE_MODELS))
def test_a_page_says_why_its_model_was_not_fitted(
    serving_file: Path, tmp_path: Path, monkeypatch, url_path: str
) -> None:
    """With every model of the page marked not fitted, the page shows each
    reason where its chart would be, and draws none of those charts."""
    fitted = _render_page(url_path, serving_file, monkeypatch)
    assert not [i.value for i in fitted.info if "was not fitted" in i.value]
    serving = tmp_path / "serving.duckdb"
    shutil.copy(serving_file, serving)
    with duckdb.connect(str(serving)) as connection:
        for model_name, _ in PAGE_MODELS[url_path]:
            connection.execute(
                "update marts.fct_ml_model_metrics set metric_value = 0, "
                "note = 'reason for ' || model_name "
                "where model_name = ? and metric_name = 'fitted' and is_published",
                [model_name],
            )
    app = _render_page(url_path, serving, monkeypatch)
    assert [i.value for i in app.info if "was not fitted" in i.value] == [
        f"The {label} was not fitted: reason for {model_name}."
        for model_name, label in PAGE_MODELS[url_path]
    ]
    # the segments page keeps its RFM chart (SQL, no model); the others
    # draw nothing of the model's
    rfm_charts = 1 if url_path == "segments" else 0
    assert len(app.get("vega_lite_chart")) == rfm_charts
    assert len(fitted.get("vega_lite_chart")) > rfm_charts


def test_each_page_reads_what_it_declares() -> None:
    declared = {page: set(tables) for page, tables in queries.PAGE_TABLES.items()}
    assert _page_tables() == declared


def test_exposures_declare_each_page_and_its_marts() -> None:
    exposures = yaml.safe_load(
        (PROJECT_DIR / "models" / "exposures" / "_dashboard__exposures.yml").read_text()
    )["exposures"]
    by_page = {
        exposure["name"].removeprefix("dashboard_"): {
            re.fullmatch(r"ref\('(\w+)'\)", ref).group(1)
            for ref in exposure["depends_on"]
        }
        for exposure in exposures
    }
    assert by_page == {page: set(t) for page, t in queries.PAGE_TABLES.items()}
    for exposure in exposures:
        assert exposure["type"] == "dashboard"
        assert exposure["description"].strip()


# --- in a real browser -----------------------------------------------------

#: Charts each page draws on the demo data.
CHARTS = {
    "overview": 3,
    "segments": 3,
    "churn": 2,
    "clv": 2,
    "satisfaction": 3,
    "cohorts": 1,
    "products": 2,
    "anomalies": 1,
    "data_quality": 2,
}


def _browser_paths() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CRM_SKIP_BROWSER_TESTS") == "1":
            pytest.skip("CRM_SKIP_BROWSER_TESTS=1 and no chromium/chromedriver")
        pytest.fail(
            "chromium and chromedriver are needed for the dashboard test: "
            "`make browser` installs them (Debian packages chromium, "
            "chromium-driver); set CRM_SKIP_BROWSER_TESTS=1 to skip."
        )
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard(serving_file: Path, tmp_path_factory):
    """The app on localhost, reading the published demo warehouse."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "streamlit.log").open("w+")
    process = subprocess.Popen(
        [
            str(BIN_DIR / "streamlit"),
            "run",
            str(APP),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "CRM_SERVING_PATH": str(serving_file)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit did not start:\n{log.read()}")
            time.sleep(0.5)
    yield url, process
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="crm-chromium-")
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _rendered(driver, page: str, timeout: float = 60) -> dict:
    """Wait until the script finished and every chart drew; what is on screen."""
    state_js = """
        const app = document.querySelector('[data-testid=stApp]');
        const charts = document.querySelectorAll('[data-testid=stVegaLiteChart]');
        const drawn = document.querySelectorAll(
            '[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg');
        return {
            state: app && app.getAttribute('data-test-script-state'),
            charts: charts.length,
            drawn: drawn.length,
            tables: document.querySelectorAll('[data-testid=stDataFrame]').length,
            tables_drawn: Array.from(document.querySelectorAll(
                '[data-testid=stDataFrame]')).filter(
                e => e.querySelector('[data-testid=data-grid-canvas]')
                    && e.getBoundingClientRect().width > 100).length,
            exceptions: Array.from(document.querySelectorAll(
                '[data-testid=stException], [data-testid=stAlertContentError]'
            )).map(e => e.innerText),
            headings: Array.from(document.querySelectorAll('h1, h2')).map(
                e => e.innerText),
        };
    """
    deadline = time.monotonic() + timeout
    while True:
        seen = driver.execute_script(state_js)
        settled = (
            seen["state"] == "notRunning"
            and seen["drawn"] >= seen["charts"]
            and seen["tables_drawn"] == seen["tables"]
        )
        if seen["exceptions"] or (settled and seen["charts"] >= CHARTS[page]):
            return seen
        if time.monotonic() > deadline:
            pytest.fail(f"page {page} did not finish rendering: {seen}")
        time.sleep(0.25)


def _open_fds_on(process: subprocess.Popen, path: Path) -> list[str]:
    fd_dir = Path(f"/proc/{process.pid}/fd")
    targets = []
    for fd in fd_dir.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return [target for target in targets if target.startswith(str(path))]


@pytest.mark.parametrize("page", list(CHARTS))
def test_page_renders_its_charts_in_chromium(
    page: str, dashboard, browser, serving_file: Path
) -> None:
    url, process = dashboard
    # The first page is the app's default and lives at the root.
    browser.get(f"{url}/" if page == "overview" else f"{url}/{page}")
    seen = _rendered(browser, page)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT_DIR / f"{page}.png"))
    assert seen["exceptions"] == []
    assert seen["charts"] == CHARTS[page]
    assert seen["drawn"] >= seen["charts"]
    assert "Page not found" not in browser.page_source
    assert len(seen["headings"]) >= 1
    # Between reruns the app holds no connection on the serving file.
    assert _open_fds_on(process, serving_file) == []
    # Nothing is fetched from outside localhost (fonts, icons, tiles).
    outside = [
        entry["message"]
        for entry in browser.get_log("browser")
        if re.search(r"https?://(?!127\.0\.0\.1|localhost)", entry["message"])
    ]
    assert outside == []


def test_filters_in_the_sidebar_and_a_publish_while_the_app_runs(
    dashboard, browser, demo_warehouse: Warehouse, serving_file: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, _ = dashboard
    browser.get(f"{url}/churn")
    _rendered(browser, "churn")
    country = browser.find_elements(
        By.CSS_SELECTOR, "[data-testid=stMultiSelect] input"
    )
    country[1].send_keys("DE", Keys.ENTER)
    time.sleep(1)
    seen = _rendered(browser, "churn")
    assert seen["exceptions"] == []
    assert "selected segments and countries" in browser.page_source
    browser.save_screenshot(str(SCREENSHOT_DIR / "churn_filtered_DE.png"))
    # A publish replaces the file under the running app; the next page view
    # reads the new file without an error.
    before = serving_file.stat().st_ino
    publish(demo_warehouse.path, serving_file)
    assert serving_file.stat().st_ino != before
    browser.get(f"{url}/")
    seen = _rendered(browser, "overview")
    assert seen["exceptions"] == []
