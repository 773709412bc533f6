"""Profiles: where the file is found, which profile is chosen, `${VAR}` and `.env`,
validation of every setting, transport safety, and secrets kept out of sight."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import API_KEY, SECURE_CODE, write_tables

from wibmo_cli import profiles
from wibmo_cli.errors import ConfigError, ExitStatus
from wibmo_cli.masking import redact
from wibmo_cli.profiles import Profile, ProfileChoice, choose, load, load_environment

ENC_KEY = "wibmo-test-key-24-bytes!"  # the base64 case below spells it
BASE: dict[str, Any] = {
    "base_url": "https://pp-uat.example",
    "client_id": "FintechA",
    "bank_id": "1234",
    "api_key": "${UAT_API_KEY}",
    "secure_code": "${UAT_SECURE_CODE}",
    "encryption_key": "${UAT_ENC_KEY}",
}
ENV = {"UAT_API_KEY": API_KEY, "UAT_SECURE_CODE": SECURE_CODE, "UAT_ENC_KEY": ENC_KEY}


def no_config(**extra: str) -> dict[str, str]:
    """An environment whose config dir is the test's empty one, plus `extra`."""
    return {"WIBMO_CONFIG_DIR": os.environ["WIBMO_CONFIG_DIR"], **extra}


def resolve(raw: Mapping[str, Any], env: Mapping[str, str] = ENV, name: str = "uat") -> Profile:
    return profiles.resolve(name, raw, env, source="profiles.toml")


def config_error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    assert caught.value.exit_status is ExitStatus.CONFIG == 3
    return str(caught.value)


# -- which file ----------------------------------------------------------------------


def test_file_discovery_precedence(isolated: Path, tmp_path: Path) -> None:
    explicit = write_tables(dict(a=BASE), default="a", path=tmp_path / "explicit.toml")
    from_env = write_tables(dict(b=BASE), default="b", path=tmp_path / "env.toml")
    in_cwd = write_tables(dict(c=BASE), default="c", path=isolated / "profiles.toml")
    config = write_tables(
        dict(d=BASE), default="d", path=tmp_path / "config" / "wibmo" / "profiles.toml"
    )
    env = {"WIBMO_PROFILES": str(from_env), "WIBMO_CONFIG_DIR": str(config.parent)}

    def chosen(flag: str | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
        choice = choose(None, flag, env=env, cwd=isolated)
        return choice.file.path, choice.name

    assert chosen(str(explicit), env) == (explicit, "a")
    assert chosen(None, env) == (from_env, "b")
    del env["WIBMO_PROFILES"]
    assert chosen(None, env) == (in_cwd, "c")
    in_cwd.unlink()
    assert chosen(None, env) == (config, "d")
    config.unlink()
    assert chosen(None, env) == (None, "demo")


def test_config_dir_comes_from_the_environment(tmp_path: Path) -> None:
    assert profiles.config_dir({"WIBMO_CONFIG_DIR": str(tmp_path)}) == tmp_path
    assert profiles.data_dir({"WIBMO_DATA_DIR": str(tmp_path / "d")}) == tmp_path / "d"


def test_a_named_file_that_does_not_exist_is_an_error(isolated: Path) -> None:
    message = config_error(choose, None, "nope.toml", env=no_config(), cwd=isolated)
    assert "profiles file nope.toml (--profiles-file) does not exist" in message
    message = config_error(
        choose, None, None, env={"WIBMO_PROFILES": str(isolated / "gone.toml")}, cwd=isolated
    )
    assert "gone.toml ($WIBMO_PROFILES) does not exist" in message


# -- which profile ---------------------------------------------------------------------


def test_name_precedence(isolated: Path) -> None:
    path = write_tables(
        dict(uat=BASE, prod=BASE, dev=BASE), default="uat", path=isolated / "profiles.toml"
    )
    assert choose(None, None, env=no_config(), cwd=isolated).name == "uat"
    assert choose(None, None, env=no_config(WIBMO_PROFILE="dev"), cwd=isolated).name == "dev"
    assert choose("prod", None, env=no_config(WIBMO_PROFILE="dev"), cwd=isolated).name == "prod"
    assert choose("prod", str(path), env=no_config(), cwd=isolated).file.path == path


def test_demo_when_there_is_no_file(isolated: Path) -> None:
    choice = choose(None, None, env=no_config(), cwd=isolated)
    assert choice.file.path is None and choice.name == "demo"
    demo = load(choice)
    assert demo.builtin and demo.embedded and demo.source == "built-in"
    assert demo.missing == {}
    assert demo.codec().decrypt_json(demo.codec().encrypt_json({"a": 1})) == {"a": 1}


def test_a_file_without_default_profile_needs_a_name(isolated: Path) -> None:
    write_tables(dict(uat=BASE, prod=BASE), path=isolated / "profiles.toml")
    choice = choose(None, None, env=no_config(), cwd=isolated)  # list needs no name (#12)
    assert choice.name is None
    message = config_error(load, choice)
    assert "has no default_profile" in message
    assert "uat, prod, demo" in message
    assert choose("prod", None, env=no_config(), cwd=isolated).name == "prod"


def test_unknown_profile_lists_the_known_ones(isolated: Path) -> None:
    path = write_tables(dict(uat=BASE, prod=BASE), default="uat", path=isolated / "profiles.toml")
    choice = choose("nope", None, env=ENV, cwd=isolated)
    message = config_error(load, choice)
    assert f"unknown profile 'nope' ({path}); known profiles: uat, prod, demo" == message
    path.unlink()
    no_file = choose("nope", None, env=no_config(), cwd=isolated)
    assert "(no profiles file); known profiles: demo" in config_error(load, no_file)


# -- ${VAR} and .env ---------------------------------------------------------------


def test_variables_from_environment_and_dotenv(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tables(
        dict(uat={**BASE, "client_id": "${A}-${B}"}), default="uat", path=isolated / "profiles.toml"
    )
    (isolated / ".env").write_text(
        f"UAT_API_KEY=from-dotenv\nUAT_SECURE_CODE={SECURE_CODE}\n"
        f"UAT_ENC_KEY='{ENC_KEY}'\nA=dotenv-a\nB=b\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("UAT_API_KEY", API_KEY)  # the environment wins over .env
    monkeypatch.setenv("A", "env-a")
    env = load_environment(isolated)
    assert env["UAT_API_KEY"] == API_KEY
    assert env["UAT_SECURE_CODE"] == SECURE_CODE
    profile = load(choose(None, None, env=env, cwd=isolated))
    assert profile.get("api_key") == API_KEY
    assert profile.get("secure_code") == SECURE_CODE
    assert profile.get("encryption_key") == ENC_KEY
    assert profile.get("client_id") == "env-a-b"
    assert profile.missing == {} and profile.literal_secrets == ()
    assert profile.key_bytes() == ENC_KEY.encode()


def test_missing_variable_names_profile_key_and_variable() -> None:
    env = {k: v for k, v in ENV.items() if k != "UAT_SECURE_CODE"}
    profile = resolve(BASE, env)  # loading does not fail: show/check can report it
    assert set(profile.missing) == {"secure_code"}
    expected = (
        "profile 'uat': secure_code needs environment variable ${UAT_SECURE_CODE}, "
        "which is not set (nor in .env)"
    )
    assert config_error(profile.get, "secure_code") == expected
    assert config_error(profile.require, "api_key", "secure_code") == expected
    assert profile.get("api_key") == API_KEY


def test_missing_and_empty_required_keys() -> None:
    raw = {k: v for k, v in BASE.items() if k != "bank_id"} | {"client_id": "  "}
    profile = resolve(raw)
    assert "bank_id is not set (profiles.toml)" in config_error(profile.get, "bank_id")
    assert "client_id is empty" in config_error(profile.get, "client_id")


def test_missing_key_variable_reaches_the_codec() -> None:
    profile = resolve(BASE, {k: v for k, v in ENV.items() if k != "UAT_ENC_KEY"})
    message = config_error(profile.codec)
    assert "'uat'" in message and "encryption_key" in message and "${UAT_ENC_KEY}" in message


# -- validation ----------------------------------------------------------------------


def test_invalid_toml(isolated: Path) -> None:
    path = isolated / "profiles.toml"
    path.write_text('default_profile = "uat"\n[profiles.uat\n', encoding="utf-8")
    message = config_error(choose, None, None, env=no_config(), cwd=isolated)
    assert f"profiles file {path} is not valid TOML" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_profile = 5\n", "default_profile must be a string"),
        ("profiles = 5\n", "profiles must be tables"),
        ("[profiles]\nuat = 5\n", "profiles must be tables"),
        ('colour = "blue"\n', "unknown top-level key 'colour'"),
    ],
)
def test_invalid_file_structure(isolated: Path, text: str, expected: str) -> None:
    (isolated / "profiles.toml").write_text(text, encoding="utf-8")
    assert expected in config_error(choose, "x", None, env=no_config(), cwd=isolated)


def test_unknown_key_is_named(isolated: Path) -> None:
    path = write_tables(
        dict(uat={**BASE, "api_secret": "x"}), default="uat", path=isolated / "profiles.toml"
    )
    choice = choose(None, None, env=ENV, cwd=isolated)
    assert config_error(load, choice) == f"profile 'uat': unknown key 'api_secret' ({path})"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("client_id", 5, "client_id must be a string"),
        ("api_key", ["x"], "api_key must be a string"),
        ("timeout", "fast", "timeout must be a number of seconds > 0"),
        ("timeout", 0, "timeout must be a number of seconds > 0"),
        ("timeout", True, "timeout must be a number of seconds > 0"),
        ("retries", -1, "retries must be a whole number from 0 to 10"),
        ("retries", 1.5, "retries must be a whole number from 0 to 10"),
        ("retries", 100_000_000, "retries must be a whole number from 0 to 10"),
        ("retries", True, "retries must be a whole number from 0 to 10"),
        ("lookup_message_code", "1930", "lookup_message_code must be a whole number >= 0"),
        ("production", "yes", "production must be true or false"),
        ("allow_insecure_http", 1, "allow_insecure_http must be true or false"),
        ("credentials", "query", 'credentials must be "headers" or "body", not \'query\''),
        ("key_encoding", "rot13", "key_encoding must be one of auto, text, hex, base64"),
        ("iv", "cbc", "iv 'cbc' is not one of zero, key, prepend, ecb or 32 hex digits"),
        ("mobile_prefix", "+91", "mobile_prefix must be digits"),
        ("mobile_prefix", "9²", "mobile_prefix must be digits"),
        ("mobile_prefix", "٩١", "mobile_prefix must be digits"),
        ("lookup_path", " ", "lookup_path is empty"),
        ("update_credentials", "cookie", 'update_credentials must be "headers" or "body"'),
        ("lookup_credentials", 1, "lookup_credentials must be a string"),
        ("update_method", "PUT", 'update_method must be "PATCH" or "POST", not \'PUT\''),
        ("update_method", "patch", 'update_method must be "PATCH" or "POST"'),
        ("update_fields", "qa", 'update_fields must be "table" or "sample"'),
        ("update_date_format", "DD/MM/YYYY", 'must be "YYYYMMDD" or "DD-MM-YYYY"'),
        ("update_documents", "array", 'update_documents must be "list" or "flat"'),
        ("product_id", " ", "product_id is blank"),
        ("success_codes", "0000", "success_codes must be a list of response codes"),
        ("success_codes", [], "success_codes must be a list of response codes"),
        ("success_codes", ["00", " "], "success_codes must be a list of response codes"),
        ("success_codes", [True], "success_codes must be a list of response codes"),
    ],
)
def test_wrong_types_and_values(key: str, value: Any, expected: str) -> None:
    message = config_error(resolve, {**BASE, key: value})
    assert message.startswith("profile 'uat': ")
    assert expected in message


def test_types_and_defaults() -> None:
    profile = resolve({**BASE, "bank_id": 1234, "timeout": 5, "credentials": "body"})
    values = profile.values
    assert values["bank_id"] == "1234"
    assert values["timeout"] == 5.0 and isinstance(values["timeout"], float)
    assert values["credentials"] == "body"
    for key in ("entity_id", "iv", "key_encoding", "mobile_prefix", "retries", "production"):
        assert values[key] == profiles.DEFAULTS[key]
    assert str(profile.iv_scheme) == "zero"


def test_per_api_settings_follow_the_shared_ones_unless_set() -> None:
    values = resolve({**BASE, "credentials": "body"}).values
    assert (values["lookup_credentials"], values["update_credentials"]) == ("body", "body")
    values = resolve({**BASE, "credentials": "body", "update_credentials": "headers"}).values
    assert (values["lookup_credentials"], values["update_credentials"]) == ("body", "headers")
    values = resolve(BASE).values
    assert (values["update_fields"], values["update_date_format"]) == ("table", "YYYYMMDD")
    assert (values["update_method"], values["success_codes"]) == ("PATCH", ("00",))
    assert values["product_id"] == ""
    values = resolve({**BASE, "update_fields": "sample", "product_id": 9}).values
    assert (values["update_date_format"], values["product_id"]) == ("DD-MM-YYYY", "9")
    sample_table_dates = {**BASE, "update_fields": "sample", "update_date_format": "YYYYMMDD"}
    assert resolve(sample_table_dates).values["update_date_format"] == "YYYYMMDD"
    assert resolve({**BASE, "success_codes": ["00", 0, "0000"]}).values["success_codes"] == (
        "00",
        "0",
        "0000",
    )


@pytest.mark.parametrize(
    ("key_encoding", "key", "iv"),
    [
        ("hex", ENC_KEY.encode().hex(), "key"),
        ("base64", "d2libW8tdGVzdC1rZXktMjQtYnl0ZXMh", "ecb"),
        ("text", ENC_KEY, "00112233445566778899AABBCCDDEEFF"),
    ],
)
def test_key_encoding_and_iv_settings(key_encoding: str, key: str, iv: str) -> None:
    profile = resolve({**BASE, "key_encoding": key_encoding, "encryption_key": key, "iv": iv})
    assert profile.key_bytes() == ENC_KEY.encode()
    assert str(profile.iv_scheme) == iv.lower()


def test_a_bad_key_names_the_profile_and_the_length() -> None:
    profile = resolve({**BASE, "encryption_key": "${UAT_ENC_KEY}x"})
    assert config_error(profile.key_bytes) == (
        "profile 'uat': the encryption key does not come to 24 bytes: got 25 characters "
        "(25 bytes as text); AES-192 needs 48 hex digits, base64 of 24 bytes (32 characters) "
        "or 24 characters of text"
    )
    hexed = resolve({**BASE, "key_encoding": "hex"})
    assert (
        config_error(hexed.key_bytes)
        == "profile 'uat': the encryption key is not hex (24 characters)"
    )


# -- transport -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://pp.example",
        "https://10.0.0.1:8443/x",
        "http://localhost:8080",
        "http://LOCALHOST:8080",
        "http://127.0.0.1:9000",
        "http://127.1.2.3",
        "http://[::1]:8080",
        "embedded",
    ],
)
def test_transport_allowed(url: str) -> None:
    resolve({**BASE, "base_url": url}).check_transport()


@pytest.mark.parametrize(
    "url",
    [
        "http://pp.example",
        "http://10.0.0.1",
        "http://0.0.0.0:8080",
        "http://127.evil.example",  # a DNS name that merely starts like a loopback address
        "http://localhost.evil.example",
    ],
)
def test_plain_http_to_anything_but_loopback_is_refused(url: str) -> None:
    host = url.removeprefix("http://").split(":")[0]
    message = config_error(resolve({**BASE, "base_url": url}).check_transport)
    assert message == (
        f"profile 'uat': plain http:// to {host} is refused; "
        "use https:// or set allow_insecure_http = true"
    )
    resolve({**BASE, "base_url": url, "allow_insecure_http": True}).check_transport()


@pytest.mark.parametrize("url", ["ftp://pp.example", "pp.example", "https://"])
def test_base_url_must_be_http_or_embedded(url: str) -> None:
    message = config_error(resolve({**BASE, "base_url": url}).check_transport)
    assert f"base_url {url!r} must be an http(s):// URL" in message


# -- secrets ---------------------------------------------------------------------------


def test_redact() -> None:
    assert redact("") == ""
    for short in ("a", "abcd", "abcdefghijk"):  # up to 11 characters: nothing of it shows
        assert redact(short) == "****"
    assert redact(API_KEY) == "****" + API_KEY[-4:]
    assert API_KEY[:-4] not in redact(API_KEY)


@given(st.text())
def test_redact_never_shows_more_than_the_last_four(value: str) -> None:
    shown = redact(value)
    assert shown in ("", "****", "****" + value[-4:])
    if shown.removeprefix("****"):
        assert len(value) >= 12
    if len(value) < 12:
        assert shown in ("", "****")


def test_profile_repr_has_no_secret() -> None:
    literal = {
        **BASE,
        "api_key": API_KEY,
        "secure_code": SECURE_CODE,
        "encryption_key": ENC_KEY,
    }
    for profile in (resolve(BASE), resolve(literal)):
        assert repr(profile) == "Profile(name='uat', source='profiles.toml')"
        for shown in (repr(profile), str(profile), f"{profile}", repr([profile])):
            for secret in (API_KEY, SECURE_CODE, ENC_KEY, API_KEY[:-4]):
                assert secret not in shown
    assert resolve(literal).literal_secrets == ("api_key", "secure_code", "encryption_key")
    assert resolve(BASE).literal_secrets == ()


def test_choice_keeps_the_environment_it_resolved_with(isolated: Path) -> None:
    write_tables(dict(uat=BASE), default="uat", path=isolated / "profiles.toml")
    choice = choose(None, None, env=ENV, cwd=isolated)
    assert isinstance(choice, ProfileChoice)
    assert load(choice).get("api_key") == API_KEY
    assert load(choice, "demo").builtin


def test_a_profiles_file_that_is_a_directory_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is a directory, not a file") as raised:
        profiles.find_profiles_file(str(tmp_path), {}, tmp_path)
    assert raised.value.exit_status == 3
    with pytest.raises(ConfigError, match=r"\$WIBMO_PROFILES\) is a directory"):
        profiles.find_profiles_file(None, {"WIBMO_PROFILES": str(tmp_path)}, tmp_path)
