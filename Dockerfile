# updater: the CLI, the GitHub Action's entrypoint and the CircleCI orb's executor, in one image.
# The base is pinned to a Python patch release, a Debian release and the image digest, written in the
# FROM line itself: Dependabot (.github/dependabot.yml) keeps tag and digest current, and it does not
# read an ARG inside FROM (dependabot/dependabot-core#2057). Both stages start from this one line.
FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS base

FROM base AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Only what the package needs: pyproject.toml, README.md (its readme) and the updater package.
COPY pyproject.toml README.md ./
COPY updater ./updater
RUN python -m venv /opt/updater \
    && /opt/updater/bin/pip install --no-cache-dir /src

FROM base
# git and openssh-client: the git backend clones and pushes (https or ssh), and CircleCI's checkout
# step needs both in a primary container. Debian drops superseded versions from its mirrors, so an
# exact version pin would break the build at the next point release; the base image pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# uid 1001 is the runner user on GitHub-hosted runners, so a Docker action running as this user can
# still write to the workspace and the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY). Build with
# --build-arg UID=... where the workspace belongs to another user (self-hosted runners, CircleCI).
ARG UID=1001
# A mounted workspace usually belongs to another uid than ours, and git refuses such a repository
# ("detected dubious ownership"): the image only ever works on checkouts it was handed, so trust them.
RUN useradd --create-home --uid "${UID}" --shell /usr/sbin/nologin updater \
    && git config --system --add safe.directory '*'
COPY --from=build /opt/updater /opt/updater
ENV PATH=/opt/updater/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# OCI annotations as image labels. VERSION is updater's __version__ (`make readme` writes the default;
# the release workflow passes the tag's version and refuses a tag that differs from it).
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="updater" \
      org.opencontainers.image.description="Write the new immutable image tag into GitOps Helm values files" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/updater-dev/updater"
USER ${UID}
ENTRYPOINT ["updater"]
CMD ["--help"]
