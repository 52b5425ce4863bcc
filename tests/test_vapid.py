"""VAPID keys: from the environment (checked), else made once into the instance folder, on first use or by
`flask --app app vapid`."""
import stat

import pytest

from app.benchmark.push_service import b64url_decode
from app.services import vapid


def test_the_vapid_command_generates_the_keys_once(app, runner, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)  # whatever this machine's environment says
    key_file = tmp_path / vapid.KEY_FILE

    made = runner.invoke(args=["vapid"])
    assert made.exit_code == 0, made.output
    public_key = made.output.strip()
    assert len(b64url_decode(public_key)) == 65 and vapid.public_key_b64url() == public_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_text()

    again = runner.invoke(args=["vapid"])
    assert again.exit_code == 1 and "--force" in again.output and public_key in again.output
    assert key_file.read_text() == pem

    replaced = runner.invoke(args=["vapid", "--force"])
    assert replaced.exit_code == 0 and replaced.output.strip() not in ("", public_key)
    assert vapid.public_key_b64url() == replaced.output.strip()


def forget_keys(app) -> None:
    """Drop the keys the app loaded, as a new process would start without them."""
    for cached in ("vapid_key", "vapid_sender"):
        app.extensions.pop(cached, None)


def test_without_configured_keys_the_first_use_makes_them_once(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", None)  # whatever this machine's environment says
    first = vapid.public_key_b64url()
    forget_keys(app)
    assert vapid.public_key_b64url() == first and (tmp_path / vapid.KEY_FILE).exists()


def test_keys_from_the_environment_win_and_are_checked(app, runner, vapid_key):
    raw_private = "iQg6rTrn9OdRsAd5yq0H8eYDw5sTOwTnu5uePvx85oc"  # a raw base64url key, as other tools print them
    forget_keys(app)
    app.config["VAPID_PRIVATE_KEY"] = raw_private
    public_key = vapid.public_key_b64url()
    assert public_key != vapid_key and len(b64url_decode(public_key)) == 65

    forget_keys(app)
    app.config["VAPID_PUBLIC_KEY"] = vapid_key  # not the private key's
    with pytest.raises(vapid.VapidConfigError, match="VAPID_PUBLIC_KEY"):
        vapid.public_key_b64url()
    app.config["VAPID_PUBLIC_KEY"] = public_key
    assert vapid.public_key_b64url() == public_key

    result = runner.invoke(args=["vapid"])
    assert result.exit_code == 1 and "VAPID_PRIVATE_KEY is set" in result.output


@pytest.mark.parametrize(("setting", "value"), [
    ("VAPID_PRIVATE_KEY", "not a key"), ("VAPID_SUBJECT", "https://dealer.test/contact"),
    ("VAPID_SUBJECT", "mailto:nobody"),
])
def test_unusable_vapid_settings_say_which_and_why(app, vapid_key, setting, value):
    forget_keys(app)
    app.config[setting] = value
    with pytest.raises(vapid.VapidConfigError, match=setting):
        vapid.sender()
