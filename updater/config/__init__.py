"""`.updater.yaml`: the model (`model`), its declared shape (`schema`), and `load`, which refuses a bad
config with FILE:LINE:COL (`loader`, over `parse`, `checks` and `apps`). This is the public surface.

ruamel.yaml is imported only when a config is parsed, so importing this package stays cheap.
"""

from updater.config.loader import find_config, load, load_config, repo_root
from updater.config.model import (
    CONFIG_NAME,
    App,
    CommitSettings,
    Config,
    ConfigError,
    Environment,
    PullRequestSettings,
    RegistrySettings,
    Scm,
    TagPolicy,
    Target,
)

__all__ = [
    "CONFIG_NAME",
    "App",
    "CommitSettings",
    "Config",
    "ConfigError",
    "Environment",
    "PullRequestSettings",
    "RegistrySettings",
    "Scm",
    "TagPolicy",
    "Target",
    "find_config",
    "load",
    "load_config",
    "repo_root",
]
