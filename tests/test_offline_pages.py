"""Offline entry from the server's side: the service worker as served (its release and app shell written in), the
pages it keeps (offline, outbox), the session check a phone makes before it sends its waiting entries, and the
words the page's script uses."""
import json
import re

from app.views import service_worker


def test_the_worker_is_served_with_its_release_and_the_app_shell_written_in(client):
    response = client.get("/sw.js")

    script = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-cache" and response.mimetype == "text/javascript"
    assert "__VERSION__" not in script and "__SHELL__" not in script
    release = re.search(r'const VERSION = "([0-9a-f]{12})";', script).group(1)
    assert release == service_worker.release()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script).group(1))
    assert {"/static/js/outbox.js", "/static/js/offline.js", "/static/css/app.css", "/offline", "/outbox"} <= set(shell)
    for path in shell:
        assert path.startswith("/")


def test_every_file_of_the_app_shell_is_there(client, auth, me):
    for path in json.loads(re.search(r"const SHELL = (\[.*?\]);", client.get("/sw.js").get_data(as_text=True))
                           .group(1)):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_a_new_release_is_a_new_version(monkeypatch, tmp_path):
    first = service_worker.fingerprint()
    monkeypatch.setattr(service_worker, "ROOT", tmp_path)
    for folder in ("service_worker", "static", "templates"):
        (tmp_path / folder).mkdir()
    (tmp_path / "static" / "app.css").write_text("body {}")
    second = service_worker.fingerprint()
    (tmp_path / "static" / "app.css").write_text("body { color: red }")

    assert len({first, second, service_worker.fingerprint()}) == 3


def test_the_session_check_names_the_user_and_brings_a_fresh_token(client, auth, world):
    signed_out = client.get("/session")
    assert signed_out.get_json()["user"] is None and signed_out.get_json()["csrf_token"]
    assert signed_out.headers["Cache-Control"] == "no-store"

    auth.sign_in(world.one.consultant.email)
    state = client.get("/session").get_json()

    assert state["user"] == world.one.consultant.id
    # the token it brings is accepted for a write
    response = client.post("/inbox/read", headers={"X-CSRFToken": state["csrf_token"]})
    assert response.status_code in (200, 204, 303)


def test_the_offline_and_outbox_pages_are_for_signed_in_users(client, auth, me):
    offline = client.get("/offline").get_data(as_text=True)
    outbox = client.get("/outbox").get_data(as_text=True)

    assert "No signal" in offline and 'href="/today"' in offline
    assert "Entries on this phone" in outbox and 'id="outbox-entry"' in outbox and "data-sync-now" in outbox
    auth.sign_out()
    assert client.get("/outbox").status_code == 302 and client.get("/offline").status_code == 302


def test_pages_carry_the_user_and_the_words_of_offline_entry_for_the_script(client, auth, me):
    page = client.get("/today").get_data(as_text=True)

    assert f'data-user="{me.id}"' in page and "data-offline-note hidden" in page  # the worker marks kept copies
    texts = json.loads(re.search(r"data-outbox-texts='([^']*)'", page).group(1).replace("&#34;", '"'))
    assert texts["badge"] == "To sync: {n}" and texts["as_of"] == "Offline — as of {time}"
    assert set(texts["kinds"]) == {"walk_in", "contact", "follow_up", "booking", "note"}


def test_the_words_are_in_chinese_for_a_chinese_speaking_user(client, auth, me):
    client.post("/account/locale", data={"locale": "zh_Hans", "csrf_token": auth.csrf_token("/account")})
    page = client.get("/today").get_data(as_text=True)

    assert "Offline — as of" not in page and "To sync" not in page
