"""A small real Helm chart (send2ereader) whose template pins the image: the shape of issue 12's user.

`templates/deployment.yaml` is full of Helm syntax that no YAML reader accepts, and holds the image
as a literal `haoict/send2ereader:master-202401151230`, once plain and once quoted.
"""

from __future__ import annotations

from pathlib import Path

IMAGE = "haoict/send2ereader"
TAG = "master-202401151230"

CHART = """\
apiVersion: v2
name: send2ereader
description: Send files to an e-reader
type: application
version: 0.1.0
appVersion: "1.0"
"""

VALUES = """\
replicaCount: 1
image:
  pullPolicy: IfNotPresent
resources:
  limits:
    memory: 256Mi
ingress:
  enabled: false
  host: send2ereader.example.com
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-send2ereader
  labels:
    app.kubernetes.io/name: send2ereader
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      {{/* the tag is written here by hand (or by updater); haoict/send2ereader:latest is not used */}}
      containers:
        - name: {{ .Chart.Name }}
          image: haoict/send2ereader:master-202401151230
          imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" | quote }}
          ports:
            - name: http
              containerPort: 3001
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
        {{- if .Values.ingress.enabled }}
        - name: proxy-check
          image: "haoict/send2ereader:master-202401151230"
          args: ["--host", {{ .Values.ingress.host | quote }}]
        {{- end }}
"""


def write_chart(root: Path, *, deployment: str = DEPLOYMENT, newline: str = "\n") -> Path:
    """Write the chart under `root/send2ereader` and return the path of its deployment template."""
    chart = root / "send2ereader"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_bytes(CHART.encode())
    (chart / "values.yaml").write_bytes(VALUES.encode())
    template = chart / "templates" / "deployment.yaml"
    template.write_bytes(deployment.replace("\n", newline).encode())
    return template
