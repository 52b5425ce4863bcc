"""The lead import page: upload a file, follow its progress to the report; an interrupted import resumes and
every row is imported exactly once, however many runners race for the job."""
import io
import re
import threading
import time
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import (
    ImportedRow, ImportState, Lead, LeadImport, LeadImportIssue, Origin, RoutingRule, RuleScope, utcnow,
)
from app.services import import_jobs, lead_files, lead_imports
from app.worker import Worker
from tests import concurrency, factories

# Chinese headers, as a portal exports them: 3 usable rows, row 3 has no valid mobile number, and a column
# the importer does not know (noted in the report).
LEADS_CSV = (
    "姓名,手机号码,城市,来源,线索编号,坐席\n"
    "张伟,13800138000,Guangzhou,autohome,T-1,A\n"
    "王芳,12345,Beijing,yiche,T-2,A\n"
    "李娜,13900139000,Shenzhen,dongchedi,T-3,B\n"
    "刘洋,15012345678,Guangzhou,website,T-4,B\n"
).encode()


def many_rows(count: int) -> bytes:
    lines = ["name,phone,city"] + [f"客户{n},1391000{n:04d},Guangzhou" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def count(model, *conditions) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def upload(client, content: bytes, name: str = "leads.csv", headers: dict | None = None):
    """Post the file as the form does; the body is encoded in memory (the test client would spool a large one
    to a temporary file it never closes)."""
    token = factories.csrf_token_from(client.get("/imports", headers=headers).get_data(as_text=True))
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(content), name)})
    return client.post("/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       headers=headers)


def follow(client, location: str, timeout: float = 30) -> str:
    """Poll the progress fragment as the page does until it stops polling; its last answer (the report)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(location, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        if 'hx-trigger="every 1s"' not in html:
            return html
        assert time.monotonic() < deadline, f"the import did not end within {timeout} s"
        time.sleep(0.05)


def outcome(report: str) -> tuple[int, int, int]:
    """Created, merged and skipped as the report shows them."""
    return tuple(int(re.search(rf'id="import-{name}">(\d+)<', report).group(1))
                 for name in ("created", "merged", "skipped"))


def import_file(client, content: bytes, name: str = "leads.csv", headers: dict | None = None
                ) -> tuple[LeadImport, str]:
    response = upload(client, content, name, headers)
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/imports/\d+", location)
    html = follow(client, location)
    db.session.expire_all()
    return db.session.get(LeadImport, int(location.rsplit("/", 1)[1])), html


@pytest.fixture
def agent(auth, world):
    """The lead desk agent, signed in; Guangzhou's leads go to the first dealer."""
    db.session.add(RoutingRule(oem_id=world.oem.id, scope=RuleScope.CITY, match_value="Guangzhou",
                               dealer_id=world.one.dealer.id))
    db.session.commit()
    auth.sign_in(world.idcc_agent)
    return world.idcc_agent


def test_an_agent_uploads_a_csv_and_follows_it_to_the_report(client, agent, world):
    job, report = import_file(client, LEADS_CSV)

    assert "Import finished" in report and outcome(report) == (3, 0, 1)
    assert "row 3:" in report and "is not a valid mobile number" in report
    assert f'/imports/{job.id}/report.csv' in report
    assert job.warnings == ["columns ignored: '坐席'"] and "columns ignored: &#39;坐席&#39;" in report
    assert (job.state, job.total_rows, job.done_rows) == (ImportState.DONE, 4, 4)
    assert (job.created, job.merged, job.skipped) == (3, 0, 1)
    assert job.content is None and job.finished_at is not None and job.user_id == agent.id
    assert [(issue.line, issue.reason.split(":")[0]) for issue in db.session.scalars(select(LeadImportIssue))] \
        == [(3, "row 3")]
    leads = db.session.scalars(select(Lead)).all()
    assert sorted(lead.customer.name for lead in leads) == ["刘洋", "张伟", "李娜"]
    assert all(lead.origin is Origin.OEM and lead.created_by_id == agent.id for lead in leads)
    routed = {lead.customer.name for lead in leads if lead.dealer_id == world.one.dealer.id}
    assert routed == {"张伟", "刘洋"}  # the Guangzhou rule; Shenzhen has none and waits at the desk

    page = client.get("/imports").get_data(as_text=True)
    assert "leads.csv" in page and "Done" in page and f"/imports/{job.id}" in page


def test_the_same_file_again_creates_nothing(client, agent):
    import_file(client, LEADS_CSV)
    leads = count(Lead)
    again, report = import_file(client, LEADS_CSV)
    assert (again.created, again.merged, again.skipped) == (0, 0, 4)
    assert outcome(report) == (0, 0, 4) and report.count("already imported") == 3
    assert count(Lead) == leads == 3


def test_the_progress_page_shows_rows_done_and_polls_until_the_end(client, agent):
    job = import_jobs.upload(agent, "leads.csv", LEADS_CSV)  # not started: the page shows it waiting
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Waiting to start" in page and "<progress" in page
    assert f'hx-get="/imports/{job.id}"' in page and 'hx-trigger="every 1s"' in page
    db.session.execute(update(LeadImport).where(LeadImport.id == job.id).values(
        state=ImportState.RUNNING, total_rows=4, done_rows=2, heartbeat_at=utcnow()))
    db.session.commit()
    fragment = client.get(f"/imports/{job.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="import-progress"') and "<html" not in fragment
    assert '<progress max="4" value="2"' in fragment and "2 of 4 rows" in fragment
    assert 'hx-trigger="every 1s"' in fragment and "Resume" not in fragment


def test_an_unreadable_file_fails_with_the_parsers_message(client, agent):
    job, report = import_file(client, b"PK\x03\x04 a workbook, not a CSV", "leads.xlsx")
    assert job.state is ImportState.FAILED and job.content is None
    assert job.error == "leads.xlsx: this is a spreadsheet workbook: save it as CSV (UTF-8) first"
    assert "could not be imported" in report and job.error in report
    assert count(Lead) == 0


@pytest.mark.parametrize(("content", "name", "message"), [
    (None, "", "Choose a CSV or XML lead file."),
    (b"", "empty.csv", "empty.csv is empty."),
    (b"x" * (lead_files.MAX_BYTES + 1), "big.csv",
     f"big.csv: {lead_files.MAX_BYTES + 1} bytes, over the limit of {lead_files.MAX_BYTES} bytes"),
])
def test_a_missing_empty_or_too_large_file_is_refused_and_nothing_is_stored(client, agent, content, name, message):
    if content is None:
        token = factories.csrf_token_from(client.get("/imports").get_data(as_text=True))
        response = client.post("/imports", data={"csrf_token": token}, content_type="multipart/form-data")
    else:
        response = upload(client, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(LeadImport) == 0


def test_a_request_over_the_apps_limit_gets_a_clear_page(app, client, agent):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = upload(client, many_rows(5000))
    assert response.status_code == 413
    assert "The upload is too large." in response.get_data(as_text=True)
    assert count(LeadImport) == 0


@pytest.mark.parametrize("who", ["consultant", "oem_admin"])
def test_only_the_lead_desk_and_managers_import(app, client, auth, world, who):
    auth.sign_in(world.one.consultant if who == "consultant" else world.oem_admin)
    assert client.get("/imports").status_code == 403
    assert client.post("/imports", data={"csrf_token": auth.csrf_token("/account")}).status_code == 403
    assert count(LeadImport) == 0
    with app.test_request_context(), pytest.raises(import_jobs.UploadRefused, match="Only the lead desk and"):
        import_jobs.upload(world.one.consultant, "leads.csv", LEADS_CSV)


def test_another_users_import_is_not_found(client, auth, world):
    job = import_jobs.upload(world.one.manager, "theirs.csv", LEADS_CSV)
    auth.sign_in(world.two.manager)
    token = auth.csrf_token("/imports")
    for response in (client.get(f"/imports/{job.id}"), client.get(f"/imports/{job.id}/report.csv"),
                     client.post(f"/imports/{job.id}/resume", data={"csrf_token": token})):
        assert response.status_code == 404
    assert "theirs.csv" not in client.get("/imports").get_data(as_text=True)


def test_the_report_csv_has_every_skipped_row_and_the_page_the_first_ones(client, agent, monkeypatch):
    monkeypatch.setattr(import_jobs, "ISSUES_SHOWN", 1)
    bad = "name,phone\n" + "".join(f"Bad {n},12345\n" for n in range(3)) + "Good,13800138000\n"
    job, report = import_file(client, bad.encode())
    assert "The first 1 of 3 skipped rows" in report and "row 2:" in report and "row 3:" not in report
    response = client.get(f"/imports/{job.id}/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="import-{job.id}-report.csv"')
    lines = response.get_data(as_text=True).removeprefix("\ufeff").splitlines()
    assert lines[0] == "Line,Reason"
    assert [line.split(",")[0] for line in lines[1:]] == ["2", "3", "4"]
    assert all("is not a valid mobile number" in line for line in lines[1:])


def test_an_interrupted_import_resumes_and_imports_every_row_once(client, agent, monkeypatch):
    monkeypatch.setattr(lead_imports, "BATCH", 2)
    job = import_jobs.upload(agent, "seven.csv", many_rows(7))
    real_batch, calls = lead_imports.import_batch, []

    def dies_in_the_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return real_batch(*args)

    monkeypatch.setattr(lead_imports, "import_batch", dies_in_the_second_batch)
    with pytest.raises(RuntimeError):
        import_jobs.run(job.id)
    db.session.rollback()
    monkeypatch.setattr(lead_imports, "import_batch", real_batch)
    db.session.expire_all()
    assert (job.state, job.done_rows, job.total_rows, job.created) == (ImportState.RUNNING, 2, 7, 2)
    assert count(Lead) == 2

    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Importing" in page and "Resume" not in page  # its heartbeat is fresh: it may still be running
    db.session.execute(update(LeadImport).where(LeadImport.id == job.id).values(
        heartbeat_at=utcnow() - import_jobs.STALE - timedelta(seconds=1)))
    db.session.commit()
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Interrupted at 2 of 7 rows" in page and 'hx-trigger="every 1s"' not in page
    token = factories.csrf_token_from(page)
    response = client.post(f"/imports/{job.id}/resume", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == f"/imports/{job.id}"

    report = follow(client, f"/imports/{job.id}")
    assert outcome(report) == (7, 0, 0)
    assert count(Lead) == 7 and count(ImportedRow) == 7
    assert db.session.scalar(select(func.count(func.distinct(Lead.customer_id)))) == 7
    again = client.post(f"/imports/{job.id}/resume", data={"csrf_token": token}, follow_redirects=True)
    assert "This import is not interrupted" in again.get_data(as_text=True)


@pytest.mark.parametrize("takeover", [False, True], ids=["queued", "runners-taking-over-each-other"])
def test_runners_racing_for_one_job_import_each_row_once(app, agent, monkeypatch, takeover):
    """Two threads run the same job at once. With STALE below zero no heartbeat is ever fresh, so both claim
    the job and both import it: only the compare-and-set on done_rows then keeps a batch from being imported
    twice or skipped."""
    monkeypatch.setattr(lead_imports, "BATCH", 3)
    if takeover:
        monkeypatch.setattr(import_jobs, "STALE", timedelta(minutes=-1))
        both_claimed, parse = threading.Barrier(2, timeout=10), lead_files.parse

        def parse_together(*args):  # both runners hold a claim before either imports a row
            both_claimed.wait()
            return parse(*args)

        monkeypatch.setattr(lead_files, "parse", parse_together)
    job_id = import_jobs.upload(agent, "race.csv", many_rows(20) + b"Bad,12345,Beijing\n").id

    assert not concurrency.at_once(app, partial(import_jobs.run, job_id), partial(import_jobs.run, job_id))
    db.session.expire_all()
    job = db.session.get(LeadImport, job_id)
    assert (job.state, job.done_rows, job.total_rows) == (ImportState.DONE, 21, 21)
    assert (job.created, job.merged, job.skipped) == (20, 0, 1)
    assert count(Lead) == 20 and count(ImportedRow) == 20 and count(LeadImportIssue) == 1


def test_the_worker_carries_on_an_import_whose_thread_died(client, agent):
    job = import_jobs.upload(agent, "seven.csv", many_rows(7))  # stored, but no thread ever ran it
    assert Worker().run_once(utcnow())["imports"] == 0  # just uploaded: its web thread may still start
    assert Worker().run_once(utcnow() + import_jobs.STALE * 2)["imports"] == 1
    db.session.expire_all()
    job = db.session.get(LeadImport, job.id)
    assert (job.state, job.created, job.done_rows) == (ImportState.DONE, 7, 7)
    assert outcome(follow(client, f"/imports/{job.id}")) == (7, 0, 0)


# What LEADS_CSV's report says, in each language: row 3's reason, the file's note, and a re-import's reason.
REPORT_TEXT = {
    "zh-CN": ("第3行：“12345”不是有效的手机号", "已忽略的列：'坐席'", "第2行：已导入过"),
    "en": ("row 3: phone '12345' is not a valid mobile number", "columns ignored: '坐席'", "row 2: already imported"),
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_report_is_written_in_the_language_of_the_upload(client, auth, world, language):
    """The import runs in a thread, without the request: it must still write in the uploader's language."""
    manager = world.one.manager
    auth.sign_in(manager)
    reason, note, again = REPORT_TEXT[language]
    job, report = import_file(client, LEADS_CSV, headers={"Accept-Language": language})

    assert outcome(report) == (3, 0, 1)
    assert job.warnings == [note] and note.replace("'", "&#39;") in report
    assert reason.replace("'", "&#39;") in report
    assert db.session.scalars(select(LeadImportIssue.reason)).all() == [reason]
    again_job, again_report = import_file(client, LEADS_CSV, headers={"Accept-Language": language})
    assert again in again_report and again_job.skipped == 4


def test_a_job_run_without_a_request_uses_the_importers_saved_language(client, auth, world):
    """The worker carries on a job in the language the importer chose in their profile."""
    manager = world.one.manager
    manager.locale = "zh_Hans"
    db.session.commit()
    good = import_jobs.upload(manager, "leads.csv", LEADS_CSV)
    bad = import_jobs.upload(manager, "leads.xlsx", b"PK\x03\x04 a workbook, not a CSV")
    assert Worker().run_once(utcnow() + import_jobs.STALE * 2)["imports"] == 2

    db.session.expire_all()
    assert db.session.get(LeadImport, good.id).warnings == ["已忽略的列：'坐席'"]
    assert db.session.scalars(select(LeadImportIssue.reason)).all() == ["第3行：“12345”不是有效的手机号"]
    assert db.session.get(LeadImport, bad.id).error == "leads.xlsx：这是电子表格工作簿，请先另存为CSV（UTF-8）文件"
    auth.sign_in(manager)
    assert "第3行：“12345”不是有效的手机号" in follow(client, f"/imports/{good.id}")
