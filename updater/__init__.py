"""updater: write the new immutable image tag into GitOps values files, format-exact."""

__version__ = "0.1.0"
