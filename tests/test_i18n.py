"""Both languages: a complete zh-Hans catalogue, and the language chosen from the user, else the browser."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.extensions import db
from app.models import User

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    """Every message the code and templates ask to translate, found as pybabel extract finds them."""
    with open(TRANSLATIONS / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_zh_hans_catalogue_translates_every_message():
    with open(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po)
    missing = sorted(m for m in source_messages()
                     if m not in catalogue or not catalogue[m].string or catalogue[m].fuzzy)
    assert not missing, f"untranslated in zh_Hans (run the README's translation commands): {missing}"


def test_compiled_catalogue_matches_the_po_file():
    """The .mo the app loads must be compiled from the current .po."""
    directory = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES"
    with open(directory / "messages.po", "rb") as po, open(directory / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    plain = lambda value: value if isinstance(value, str) else tuple(value)  # plurals: lists in a .mo  # noqa: E731
    as_dict = lambda catalogue: {plain(m.id): plain(m.string) for m in catalogue if m.id and not m.fuzzy}  # noqa: E731
    assert as_dict(compiled) == as_dict(source)


def test_browser_language_chooses_before_sign_in(client, world):
    assert "登录" in client.get("/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Sign in" in client.get("/signin", headers={"Accept-Language": "en-GB,en"}).get_data(as_text=True)
    page = client.get("/signin", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page


def test_users_own_language_wins_over_the_browser(client, auth, world):
    user = world.one.consultant
    user.locale = "zh_Hans"
    db.session.commit()
    auth.sign_in(user)
    assert "我的账户" in client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_switching_language_in_the_profile_is_kept_on_the_account(client, auth, world):
    user = world.one.manager
    auth.sign_in(user)
    token = auth.csrf_token("/account")
    response = client.post("/account/locale", data={"locale": "zh_Hans", "csrf_token": token},
                           headers={"Referer": "http://localhost/account"})
    assert response.headers["Location"] == "http://localhost/account"
    assert "语言" in client.get("/account").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hans"
    bad = client.post("/account/locale", data={"locale": "fr", "csrf_token": token})
    assert bad.status_code == 302
    assert "从列表中选择一种语言" in client.get("/account").get_data(as_text=True)


def test_language_chosen_before_sign_in_is_kept_after_it(client, auth, world):
    user = world.two.consultant
    client.post("/account/locale", data={"locale": "zh_Hans", "csrf_token": auth.csrf_token()})
    assert "登录" in client.get("/signin").get_data(as_text=True)
    auth.sign_in(user)
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hans"
