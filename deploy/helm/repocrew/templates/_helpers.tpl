{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "repocrew.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "repocrew.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: web, worker, scheduler or migrations. */}}
{{- define "repocrew.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* No public image is published: the operator builds deploy/Dockerfile and pushes it. */}}
{{- define "repocrew.image" -}}
{{- $repository := required "image.repository is required: build deploy/Dockerfile, push it to a registry the cluster can pull from, and set image.repository=REGISTRY/repocrew (README: Deploy)" .Values.image.repository -}}
{{ $repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Where the files from values are mounted (read-only) in the processes' containers. */}}
{{- define "repocrew.crewDir" -}}/etc/repocrew/crew{{- end -}}
{{- define "repocrew.keyDir" -}}/etc/repocrew/github{{- end -}}

{{/* The Secret holding the GitHub App's private key file, if any. */}}
{{- define "repocrew.keySecretName" -}}
{{- if .Values.githubPrivateKey.existingSecret -}}
{{ .Values.githubPrivateKey.existingSecret }}
{{- else if .Values.githubPrivateKey.pem -}}
{{ include "repocrew.fullname" . }}-github-key
{{- end -}}
{{- end -}}

{{/* The Secret the containers read their credentials from. */}}
{{- define "repocrew.secretName" -}}
{{- if .Values.existingSecret -}}
{{ .Values.existingSecret }}
{{- else -}}
{{ include "repocrew.fullname" . }}
{{- end -}}
{{- end -}}

{{/* Every pod: non-root, and its scratch directories (the root filesystem is read-only);
with "files", the crew file's ConfigMap and the App key's Secret (not for the migrations Job,
a hook that runs before they exist). Called with (dict "root" . "files" true|false). */}}
{{- define "repocrew.podSpec" -}}
{{- $root := .root -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: work
    emptyDir: {}
{{- if and .files $root.Values.crewFile }}
  - name: crew
    configMap:
      name: {{ include "repocrew.fullname" $root }}-crew
{{- end }}
{{- if and .files (include "repocrew.keySecretName" $root) }}
  - name: github-key
    secret:
      secretName: {{ include "repocrew.keySecretName" $root }}
      defaultMode: 0440  # owner root, group fsGroup: readable by the uid 10001 process only
      items:
        - key: {{ $root.Values.githubPrivateKey.secretKey }}
          path: {{ $root.Values.githubPrivateKey.secretKey }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* What every repocrew container shares: image, settings, credentials, scratch mounts; with
"files", the crew file and the App key mounted and named by their settings.
Called with (dict "root" . "files" true|false). */}}
{{- define "repocrew.container" -}}
{{- $root := .root -}}
{{- $key := and .files (include "repocrew.keySecretName" $root) -}}
image: {{ include "repocrew.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml $root.Values.securityContext | nindent 2 }}
envFrom:
  - secretRef:
      name: {{ include "repocrew.secretName" $root }}
env:
  - name: REPOCREW_WORK_DIR
    value: /work
  {{- if and .files $root.Values.crewFile }}
  - name: REPOCREW_CREW_FILE
    value: {{ include "repocrew.crewDir" $root }}/crew.toml
  {{- end }}
  {{- if $key }}
  - name: REPOCREW_GITHUB_PRIVATE_KEY_PATH
    value: {{ include "repocrew.keyDir" $root }}/{{ $root.Values.githubPrivateKey.secretKey }}
  {{- end }}
  {{- range $name, $value := $root.Values.config }}
  - name: {{ $name }}
    value: {{ $value | quote }}
  {{- end }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: work
    mountPath: /work
  {{- if and .files $root.Values.crewFile }}
  - name: crew
    mountPath: {{ include "repocrew.crewDir" $root }}
    readOnly: true
  {{- end }}
  {{- if $key }}
  - name: github-key
    mountPath: {{ include "repocrew.keyDir" $root }}
    readOnly: true
  {{- end }}
{{- end -}}

{{/* Roll the pods when the chart's Secrets or the crew file change. */}}
{{- define "repocrew.podAnnotations" -}}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- if .Values.crewFile }}
checksum/crew: {{ .Values.crewFile | sha256sum }}
{{- end }}
{{- if and .Values.githubPrivateKey.pem (not .Values.githubPrivateKey.existingSecret) }}
checksum/github-key: {{ .Values.githubPrivateKey.pem | sha256sum }}
{{- end }}
{{- end -}}

{{/* Checks that stop a broken install before anything is created. */}}
{{- define "repocrew.validate" -}}
{{- if not .Values.existingSecret -}}
{{- $url := required "databaseUrl is required (postgresql://…), or set existingSecret" .Values.databaseUrl -}}
{{- if not (hasPrefix "postgresql" $url) -}}
{{- fail "databaseUrl must be a postgresql:// URL: SQLite cannot be shared by several pods" -}}
{{- end -}}
{{- end -}}
{{- if .Values.secrets.REPOCREW_GITHUB_PRIVATE_KEY -}}
{{- fail "secrets.REPOCREW_GITHUB_PRIVATE_KEY: give the key as a file instead: --set-file githubPrivateKey.pem=KEY.pem (mounted, REPOCREW_GITHUB_PRIVATE_KEY_PATH names it)" -}}
{{- end -}}
{{- if and .Values.githubPrivateKey.pem .Values.githubPrivateKey.existingSecret -}}
{{- fail "githubPrivateKey: set pem or existingSecret, not both" -}}
{{- end -}}
{{- if lt (int .Values.replicas.web) 1 -}}
{{- fail "replicas.web must be at least 1" -}}
{{- end -}}
{{- end -}}
