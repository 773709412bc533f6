"""Issue 11 end to end: each environment the public material shows, rehearsed against the
sandbox serving that variant on loopback, through the CLI as a user runs it.

The parts meet here: per-API credentials and method (wire.py), the Update Profile dialect
(fields.Dialect), answer envelopes and success codes (bodies.py, codes.is_success), the
update probe and calibration of `profiles check` (online_check.py, calibrate.py), and the
sandbox's strict variants (sandbox/variants.py).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support import Invoke, write_profiles, write_tables

from wibmo_cli.sandbox import Sandbox
from wibmo_cli.sandbox.seed import SAMPLE_MOBILE
from wibmo_cli.sandbox.variants import GITBOOK, V3, WALLET

pytestmark = pytest.mark.e2e

CONSUMER = "consumer-7"
V3_PROFILE: dict[str, Any] = {
    "lookup_path": "/uat/sbx/api/onboarding/v3/retrieveCustRecord",
    "update_path": "/uat/sbx/api/onboarding/v3/updateprofile",
    "lookup_credentials": "body",
    "update_credentials": "headers",
    "consumer_custom_id": CONSUMER,
    "update_fields": "sample",
}
WALLET_PROFILE: dict[str, Any] = {
    "lookup_path": "/loyalty-points/v1/wallet/retrieveCustRecord",
    "update_path": "/loyalty-points/v1/wallet/onboarding/v3/updateProfile",
    "update_method": "POST",
}
HELPERS: dict[str, Any] = {"encrypt_path": "/api/v2/encrypt", "decrypt_path": "/api/v2/decrypt"}


def checks(result: Any) -> dict[str, dict[str, str]]:
    report = json.loads(result.stdout)
    return {line["name"]: line for line in report["checks"]}


def card_on(db: Path, profile_id: int) -> str:
    with sqlite3.connect(db) as conn:
        (urn,) = conn.execute(
            "SELECT urn FROM cards WHERE profile_id = ? ORDER BY urn LIMIT 1", (profile_id,)
        ).fetchone()
    return str(urn)


def test_one_v3_profile_looks_up_and_updates_cards_on_every_kyc_profile(
    start_sandbox: Any, wibmo: Invoke, db_path: Path
) -> None:
    """Body credentials for the lookup, headers and X-Consumer-Custom-ID for the update,
    the samples' spelling and date format: one profile, both APIs, cards on 1 and 200 too."""
    sandbox: Sandbox = start_sandbox(profile=V3_PROFILE, variant=V3, consumer_custom_id=CONSUMER)
    looked_up = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-o", "json")
    assert looked_up.exit_code == 0, looked_up.stderr
    for profile_id in (1, 200, 150):
        urn = card_on(db_path, profile_id)
        result = wibmo("update-profile", "--urn", urn, "--city", "Pune", "--dob", "19950711",
                       "--yes", "-o", "json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["responseCode"] == "00"
    assert [r.response_code for r in sandbox.requests if r.api == "update"] == ["00"] * 3


def test_profiles_check_online_proves_a_v3_profile_and_names_a_wrong_placement(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    sandbox: Sandbox = start_sandbox(profile=V3_PROFILE, variant=V3, consumer_custom_id=CONSUMER)
    good = wibmo("profiles", "check", "--online", "-o", "json")
    assert good.exit_code == 0, good.stdout + good.stderr
    assert checks(good)["online update"]["status"] == "ok"
    assert "proved update_path" in checks(good)["online update"]["detail"]
    # the mistake issue 11 names: one placement for both APIs, so the update goes in the body
    write_profiles(sandbox.url, **{**V3_PROFILE, "update_credentials": "body"})
    bad = wibmo("profiles", "check", "--online", "-o", "json")
    assert bad.exit_code == 3, bad.stdout + bad.stderr
    line = checks(bad)["online update"]
    assert line["status"] == "fail"
    assert 'try update_credentials = "headers"' in line["detail"]
    assert checks(bad)["online"]["status"] == "ok"  # the lookup's placement is right
    assert not [r for r in sandbox.requests if r.api == "update" and r.response_code == "00"]


@pytest.mark.parametrize(("method", "code"), [("POST", 0), ("PATCH", 6)])
def test_gitbook_wants_update_profile_by_post(
    start_sandbox: Any, wibmo: Invoke, method: str, code: int
) -> None:
    start_sandbox(
        profile={"update_path": "/api/v2/updateProfileApi", "update_method": method},
        variant=GITBOOK,
    )
    result = wibmo("update-profile", "--urn", "389", "--first-name", "Asha", "--yes")
    assert result.exit_code == code, result.stderr
    check = wibmo("profiles", "check", "--online", "-o", "json")
    line = checks(check)["online update"]
    assert line["status"] == ("ok" if method == "POST" else "fail"), line
    if method == "PATCH":
        assert 'try update_method = "POST"' in line["detail"]


def test_a_wallet_answer_in_result_is_success_only_where_the_profile_says(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    sandbox: Sandbox = start_sandbox(profile=WALLET_PROFILE, variant=WALLET)
    guessed = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-o", "json")
    assert guessed.exit_code == 1, guessed.stderr  # "0000" is not success by guessing
    assert json.loads(guessed.stdout)["responseCode"] == "0000"
    write_profiles(sandbox.url, **WALLET_PROFILE, success_codes=["00", "0000"])
    said = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert said.exit_code == 0, said.stderr
    assert "0000" in said.stdout
    update = wibmo("update-profile", "--urn", "389", "--city", "Pune", "--yes")
    assert update.exit_code == 0, update.stderr


@pytest.mark.parametrize(("served", "written", "status"), [
    ("prepend", "prepend", "ok"), ("prepend", "zero", "fail"), ("key", "zero", "fail"),
    ("zero", "zero", "ok"),
])  # fmt: skip
def test_calibrate_asks_the_sandboxs_helper_which_iv_it_uses(
    start_sandbox: Any, wibmo: Invoke, served: str, written: str, status: str
) -> None:
    start_sandbox(profile={**HELPERS, "iv": written}, iv=served)
    result = wibmo("profiles", "check", "--calibrate", "-o", "json")
    line = checks(result)["calibrate"]
    assert line["status"] == status, line
    assert f'iv = "{served}"' in line["detail"]
    assert result.exit_code == (0 if status == "ok" else 3)
    if status == "ok":
        assert checks(result)["calibrate decrypt"]["status"] == "ok"


def test_a_profile_without_helpers_falls_back_to_the_lookup(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    sandbox: Sandbox = start_sandbox(profile={})
    result = wibmo("profiles", "check", "--online", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no helper" in checks(result)["calibrate"]["detail"]
    assert checks(result)["online"]["status"] == "ok"
    assert not [r for r in sandbox.requests if r.api == "helper"]


def test_the_embedded_sandbox_follows_the_profile_it_serves(wibmo: Invoke) -> None:
    """DESIGN.md, Sandbox: a profile whose settings differ from the seed documents' (POST
    updates, mob1's 3422, 0000 for success, its own helper paths) works embedded too."""
    from wibmo_cli.profiles import DEMO_PROFILE
    from wibmo_cli.sandbox.seed import SAMPLE_URN

    own = {
        **DEMO_PROFILE,
        "update_method": "POST",
        "lookup_message_code": 3422,
        "success_codes": ["0000"],
        "encrypt_path": "/own/encrypt",
        "decrypt_path": "/own/decrypt",
    }
    write_tables({"own": own}, default="own")
    looked_up = wibmo("lookup", "--urn", str(SAMPLE_URN), "-o", "json")
    assert looked_up.exit_code == 0, looked_up.stderr
    assert json.loads(looked_up.stdout)["responseCode"] == "0000"
    update = wibmo("update-profile", "--urn", str(SAMPLE_URN), "--city", "Pune", "--yes")
    assert update.exit_code == 0, update.stderr
    check = wibmo("profiles", "check", "--online", "-o", "json")
    assert check.exit_code == 0, check.stdout + check.stderr
    assert checks(check)["calibrate"]["status"] == "ok"
    assert checks(check)["online update"]["status"] == "ok"


def test_a_preview_says_how_it_is_sent_and_each_note_on_its_own_line(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    """A user review: the "sent as" line and the downgrade note ran together in one
    paragraph (rich joins texts printed together with a space)."""
    start_sandbox(profile={"update_fields": "sample", "product_id": "9"})
    result = wibmo("update-profile", "--urn", "389", "--new-card-profile-id", "30", "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("sent as: the samples' field names") for line in lines)
    assert any(line.startswith("note: this lowers the KYC profile") for line in lines)


def test_a_wrong_secret_refused_by_both_apis_from_both_places_is_the_value(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    """A re-check review: v3 refuses a wrong secure_code from the body (lookup) and from
    the headers (update) alike; that points at the value, not at a placement to flip."""
    start_sandbox(
        profile={**V3_PROFILE, "secure_code": "WRONG-CODE-1"},
        variant=V3,
        consumer_custom_id=CONSUMER,
    )
    result = wibmo("profiles", "check", "--online", "-o", "json")
    update = checks(result)["online update"]["detail"]
    assert "secure_code is wrong or empty: Retrieve Cust Record refused it the same way" in update
    assert "try update_credentials" not in update
