"""`wibmo mitm-addon`: where the mitmproxy addon is, for `mitmproxy -s $(wibmo mitm-addon)`."""

from __future__ import annotations

from wibmo_cli.commands.options import command_options
from wibmo_cli.runtime import Runtime


@command_options
def mitm_addon(rt: Runtime) -> None:
    """Print the path of the mitmproxy addon that shows the platform's tokens decrypted.

    The addon ships inside wibmo (no dependency on mitmproxy). It reads the key and the
    IV scheme from a profile: WIBMO_PROFILE / WIBMO_PROFILES as wibmo does, or
    `--set wibmo_profile=NAME` in mitmproxy. Each request and answer holding a token gets
    a "wibmo" view (the JSON decrypted, document numbers masked) and a comment in the
    flow list (message code, response code, clientTxnId). mitmproxy's Python must be able
    to import wibmo (e.g. `pipx inject mitmproxy wibmo-cli`); if it cannot, the addon
    tries the copy it was shipped in.

    \b
    Examples:
      wibmo mitm-addon
      mitmproxy -s "$(wibmo mitm-addon)" --set wibmo_profile=uat
      WIBMO_PROFILE=uat mitmdump -s "$(wibmo mitm-addon)"
    """
    from wibmo_cli.mitm_addon import addon_path

    path = str(addon_path())
    if rt.json:
        rt.render.json({"path": path})
    else:
        rt.render.line(path)
