"""Which proxy reaches a URL and which CAs to trust, read from the environment as curl and requests do.

`https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for plain http, `all_proxy` /
`ALL_PROXY` otherwise; a lower-case name wins over its upper-case twin. `NO_PROXY` lists `*`, host
names (covering their subdomains, with or without a leading dot), `host:port` and CIDR blocks.
The CAs: the file or directory in REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else certifi's bundle.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import certifi


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the proxy URL the environment names for `url`, or None to go straight."""
    named = proxy_variable(url, environ)
    return named[1] if named else None


def proxy_variable(url: str, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """Return (variable, proxy URL) the environment names for `url`, or None to go straight."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    proxies = _proxies(env)
    named = proxies.get(parts.scheme) or proxies.get("all")
    if not named or _bypassed(parts.hostname or "", parts.port, env):
        return None
    variable, proxy = named
    return variable, proxy if "://" in proxy else f"http://{proxy}"


def _proxies(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """(variable, value) by scheme, from `<scheme>_proxy` and `all_proxy`; lower case wins over upper."""
    found: dict[str, tuple[str, str]] = {}
    for lower_case in (False, True):
        for name, value in env.items():
            if value and name.lower().endswith("_proxy") and name.islower() == lower_case:
                found[name.lower().removesuffix("_proxy")] = (name, value)
    found.pop("no", None)
    return found


def _bypassed(host: str, port: int | None, env: Mapping[str, str]) -> bool:
    """NO_PROXY: `*`, host names and their subdomains (`.example.com` or `example.com`), `host:port`, CIDR."""
    listed = env.get("no_proxy") or env.get("NO_PROXY") or ""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (item.strip().lower() for item in listed.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        if address is not None and "/" in name:
            with contextlib.suppress(ValueError):
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            continue
        name = name.lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def ca_locations(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The CAs to trust, as `ssl.create_default_context` takes them (`cafile` or `capath`)."""
    env = os.environ if environ is None else environ
    named = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
    if named:
        return {"capath": named} if os.path.isdir(named) else {"cafile": named}
    return {"cafile": certifi.where()}
